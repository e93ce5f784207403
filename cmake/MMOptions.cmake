# Compiler flags shared by every mmc target.
# -Werror=switch: a switch over an enum (KernelKind in the generators) must handle
# every case, so a new kernel kind cannot be forgotten by a code generator.
add_compile_options(-Wall -Wextra -Wno-unused-parameter -Wno-unknown-pragmas -fno-omit-frame-pointer
                    -Werror=switch)

if(MM_SANITIZE)
  # vptr is off: libMLIR.so is not instrumented and the check reports false positives on
  # its classes.
  set(MM_SANITIZER_FLAGS -fsanitize=address,undefined -fno-sanitize=vptr -fno-sanitize-recover=all)
  add_compile_options(${MM_SANITIZER_FLAGS})
  add_link_options(${MM_SANITIZER_FLAGS})
endif()

# Targets of the compiler side (anything that includes MLIR headers) link the shared
# libMLIR/libLLVM: static MLIR would cost minutes of linking per tool on two cores.
function(mm_link_mlir target)
  target_link_libraries(${target} PUBLIC MLIR LLVM)
endfunction()
