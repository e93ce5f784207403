# lit configuration of the mm-opt regression suite.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "MM"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.mm_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit", "fuzz", "data", "numeric", "eval", "autodiff", "train", "layering", "Inputs"]

# Sanitizer settings reach the tools under test (scripts/test.sh --sanitize).
for var in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(["mm-opt", "mm-run", "mm-compile", "mm-plan"], [config.mm_tools_dir])
config.substitutions.append(("%data", os.path.join(config.mm_src_root, "test", "data")))

# The CUDA toolkit's nvcc, where installed: emitted kernels must compile with
# plain `nvcc -arch=sm_90` (no GPU needed).
nvcc = "/usr/local/cuda/bin/nvcc"
if os.path.exists(nvcc):
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", nvcc))

# The fake CUDA toolkit (test/cuda/fakecuda): CUDA executables run on the CPU
# emulator, so `%fake_cuda mm-run eval ... --backend cuda` works without a GPU.
fake_cuda = os.path.join(config.mm_obj_root, "lib", "fake-cuda")
if os.path.exists(os.path.join(fake_cuda, "libcuda.so.1")):
    config.available_features.add("fake-cuda")
    config.substitutions.append(("%fake_cuda", "env LD_LIBRARY_PATH=%s:%s-toolkit MM_CACHE_DIR=%s" % (
        fake_cuda, fake_cuda, os.path.join(config.mm_obj_root, "emulated-nvrtc-cache"))))

# Debian's python3 with numpy (scripts/setup.sh), for tests that make .npy files.
config.substitutions.append(("%python", "/usr/bin/python3"))
config.substitutions.append(("%mm_tools_dir", config.mm_tools_dir))
