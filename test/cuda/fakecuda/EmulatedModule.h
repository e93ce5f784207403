//===- EmulatedModule.h - the "cubin" the fake NVRTC hands the fake driver --===//
//
// The fake NVRTC builds a program into a host shared object; its image is a
// magic line and that object's path. The fake driver loads such an image by
// dlopen'ing the object (its kernels register with the emulator), and takes
// any other image to mean the kernels already linked into it (the kernel
// tests' library instances).
//
//===----------------------------------------------------------------------===//
#ifndef MM_TEST_CUDA_FAKECUDA_EMULATEDMODULE_H
#define MM_TEST_CUDA_FAKECUDA_EMULATEDMODULE_H

#include <cstring>
#include <optional>
#include <string>

namespace mm_fakecuda {

inline constexpr char kEmulatedModuleMagic[] = "mmc-emulated-module\n";

/// The image naming `objectPath`, NUL-terminated like a PTX image.
inline std::string emulatedModuleImage(const std::string &objectPath) {
  return kEmulatedModuleMagic + objectPath + std::string(1, '\0');
}

/// The object path of an emulated-module image, or nothing for another image.
inline std::optional<std::string> emulatedModulePath(const void *image) {
  const char *text = static_cast<const char *>(image);
  const size_t magic = sizeof(kEmulatedModuleMagic) - 1;
  if (std::strncmp(text, kEmulatedModuleMagic, magic) != 0)
    return std::nullopt;
  return std::string(text + magic);
}

} // namespace mm_fakecuda

#endif // MM_TEST_CUDA_FAKECUDA_EMULATEDMODULE_H
