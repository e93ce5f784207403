//===- ImageDecode.cpp - PNG (libpng) and JPEG (libjpeg-turbo) to RGB ------===//
//
// Both libraries report errors by longjmp. The decode functions below keep
// only plain C state between setjmp and longjmp (buffers live in a state
// struct and are freed on either path), so no C++ destructor is skipped.
//
//===----------------------------------------------------------------------===//
#include "frontends/image/Image.h"

#include "runtime/Error.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include <jpeglib.h>
#include <png.h>

namespace mm::image {

RgbImage RgbImage::black(int64_t width, int64_t height) {
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.assign(static_cast<size_t>(width * height * 3), 0);
  return image;
}

namespace {

/// What a decoder leaves behind, success or failure.
struct DecodeState {
  const uint8_t *data = nullptr;
  size_t size = 0;
  size_t pos = 0;
  uint8_t *pixels = nullptr; // malloc'ed, width x height x 3
  uint8_t *scratch = nullptr;
  void **rowPointers = nullptr;
  uint32_t width = 0, height = 0;
  char message[512] = {0};
};

void freeBuffers(DecodeState &s) {
  std::free(s.scratch);
  std::free(s.rowPointers);
  s.scratch = nullptr;
  s.rowPointers = nullptr;
}

bool tooLarge(DecodeState &s, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0) {
    std::snprintf(s.message, sizeof s.message, "image has zero size (%llux%llu)",
                  (unsigned long long)width, (unsigned long long)height);
    return true;
  }
  if (width * height > static_cast<uint64_t>(kMaxImagePixels)) {
    std::snprintf(s.message, sizeof s.message,
                  "image is %llux%llu = %llu pixels, above the %lld-pixel limit "
                  "(Pillow's decompression-bomb limit)",
                  (unsigned long long)width, (unsigned long long)height,
                  (unsigned long long)(width * height), (long long)kMaxImagePixels);
    return true;
  }
  return false;
}

//===--- PNG ----------------------------------------------------------------===//

void pngError(png_structp png, png_const_charp message) {
  auto *s = static_cast<DecodeState *>(png_get_error_ptr(png));
  std::snprintf(s->message, sizeof s->message, "%s", message);
  png_longjmp(png, 1);
}

void pngWarning(png_structp, png_const_charp) {} // Pillow ignores them too

void pngRead(png_structp png, png_bytep out, size_t count) {
  auto *s = static_cast<DecodeState *>(png_get_io_ptr(png));
  if (count > s->size - s->pos)
    png_error(png, "truncated file (unexpected end of data)");
  std::memcpy(out, s->data + s->pos, count);
  s->pos += count;
}

/// Pillow opens 16-bit gray as mode I;16, and convert("RGB") clips it to 255
/// rather than scaling; every other 16-bit mode keeps the high byte.
bool decodePng(DecodeState &s) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, pngError, pngWarning);
  if (!png) {
    std::snprintf(s.message, sizeof s.message, "libpng could not start");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (!info || setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    freeBuffers(s);
    std::free(s.pixels);
    s.pixels = nullptr;
    return false;
  }
  png_set_read_fn(png, &s, pngRead);
  png_set_user_limits(png, 1u << 20, 1u << 20);
  png_read_info(png, info);
  uint32_t width = png_get_image_width(png, info), height = png_get_image_height(png, info);
  int colorType = png_get_color_type(png, info), bitDepth = png_get_bit_depth(png, info);
  if (tooLarge(s, width, height))
    png_longjmp(png, 1);
  bool gray16 = colorType == PNG_COLOR_TYPE_GRAY && bitDepth == 16;
  if (colorType == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (colorType == PNG_COLOR_TYPE_GRAY && bitDepth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (bitDepth == 16 && !gray16)
    png_set_strip_16(png);
  if (colorType & PNG_COLOR_MASK_ALPHA || png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_strip_alpha(png);
  if (!gray16 && (colorType == PNG_COLOR_TYPE_GRAY || colorType == PNG_COLOR_TYPE_GRAY_ALPHA))
    png_set_gray_to_rgb(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  size_t rowBytes = png_get_rowbytes(png, info);
  size_t want = gray16 ? size_t(width) * 2 : size_t(width) * 3;
  if (rowBytes != want)
    png_error(png, "unexpected row layout after conversion to RGB");
  s.scratch = static_cast<uint8_t *>(std::malloc(rowBytes * height));
  s.rowPointers = static_cast<void **>(std::malloc(sizeof(void *) * height));
  s.pixels = static_cast<uint8_t *>(std::malloc(size_t(width) * height * 3));
  if (!s.scratch || !s.rowPointers || !s.pixels)
    png_error(png, "out of memory");
  for (uint32_t y = 0; y < height; ++y)
    s.rowPointers[y] = s.scratch + y * rowBytes;
  png_read_image(png, reinterpret_cast<png_bytepp>(s.rowPointers));
  png_read_end(png, nullptr);
  if (gray16) {
    for (size_t i = 0; i < size_t(width) * height; ++i) {
      unsigned v = (unsigned(s.scratch[2 * i]) << 8) | s.scratch[2 * i + 1];
      uint8_t c = v > 255 ? 255 : uint8_t(v);
      s.pixels[3 * i] = s.pixels[3 * i + 1] = s.pixels[3 * i + 2] = c;
    }
  } else {
    std::memcpy(s.pixels, s.scratch, rowBytes * height);
  }
  s.width = width;
  s.height = height;
  png_destroy_read_struct(&png, &info, nullptr);
  freeBuffers(s);
  return true;
}

//===--- JPEG ---------------------------------------------------------------===//

struct JpegError {
  jpeg_error_mgr manager;
  jmp_buf jump;
  DecodeState *state;
};

void jpegFail(j_common_ptr cinfo) {
  auto *error = reinterpret_cast<JpegError *>(cinfo->err);
  char text[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, text);
  std::snprintf(error->state->message, sizeof error->state->message, "%s", text);
  std::longjmp(error->jump, 1);
}

void jpegQuiet(j_common_ptr, int) {} // warnings: Pillow ignores them

void jpegInitSource(j_decompress_ptr) {}
void jpegTermSource(j_decompress_ptr) {}
void jpegSkip(j_decompress_ptr cinfo, long count) {
  if (count <= 0)
    return;
  if (static_cast<size_t>(count) > cinfo->src->bytes_in_buffer) {
    // Running out is a truncated file, as Pillow says it is.
    auto *error = reinterpret_cast<JpegError *>(cinfo->err);
    std::snprintf(error->state->message, sizeof error->state->message,
                  "truncated file (unexpected end of data)");
    std::longjmp(error->jump, 1);
  }
  cinfo->src->next_input_byte += count;
  cinfo->src->bytes_in_buffer -= count;
}
boolean jpegFill(j_decompress_ptr cinfo) {
  auto *error = reinterpret_cast<JpegError *>(cinfo->err);
  std::snprintf(error->state->message, sizeof error->state->message,
                "truncated file (unexpected end of data)");
  std::longjmp(error->jump, 1);
}

bool decodeJpeg(DecodeState &s) {
  jpeg_decompress_struct cinfo;
  JpegError error;
  error.state = &s;
  cinfo.err = jpeg_std_error(&error.manager);
  error.manager.error_exit = jpegFail;
  error.manager.emit_message = jpegQuiet;
  jpeg_source_mgr source;
  if (setjmp(error.jump)) {
    jpeg_destroy_decompress(&cinfo);
    freeBuffers(s);
    std::free(s.pixels);
    s.pixels = nullptr;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  source.next_input_byte = s.data;
  source.bytes_in_buffer = s.size;
  source.init_source = jpegInitSource;
  source.fill_input_buffer = jpegFill;
  source.skip_input_data = jpegSkip;
  source.resync_to_restart = jpeg_resync_to_restart;
  source.term_source = jpegTermSource;
  cinfo.src = &source;
  jpeg_read_header(&cinfo, TRUE);
  if (tooLarge(s, cinfo.image_width, cinfo.image_height))
    std::longjmp(error.jump, 1);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(s.message, sizeof s.message,
                  "CMYK JPEG is not supported (convert it to RGB first)");
    std::longjmp(error.jump, 1);
  }
  cinfo.out_color_space = JCS_RGB;
  jpeg_start_decompress(&cinfo);
  if (cinfo.output_components != 3) {
    std::snprintf(s.message, sizeof s.message, "JPEG decoded to %d components, not 3",
                  cinfo.output_components);
    std::longjmp(error.jump, 1);
  }
  size_t stride = size_t(cinfo.output_width) * 3;
  s.pixels = static_cast<uint8_t *>(std::malloc(stride * cinfo.output_height));
  if (!s.pixels) {
    std::snprintf(s.message, sizeof s.message, "out of memory");
    std::longjmp(error.jump, 1);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = s.pixels + size_t(cinfo.output_scanline) * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  s.width = cinfo.output_width;
  s.height = cinfo.output_height;
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

bool isPng(const std::vector<uint8_t> &b) {
  static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return b.size() >= 8 && std::memcmp(b.data(), signature, 8) == 0;
}
bool isJpeg(const std::vector<uint8_t> &b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

} // namespace

RgbImage decodeImage(const std::vector<uint8_t> &bytes, const std::string &name) {
  if (bytes.empty())
    throw makeError(name, ": empty file, not an image");
  DecodeState state;
  state.data = bytes.data();
  state.size = bytes.size();
  bool ok;
  const char *format;
  if (isPng(bytes)) {
    format = "PNG";
    ok = decodePng(state);
  } else if (isJpeg(bytes)) {
    format = "JPEG";
    ok = decodeJpeg(state);
  } else {
    throw makeError(name, ": unsupported image format (PNG and JPEG are read; the file "
                          "starts with neither signature)");
  }
  if (!ok)
    throw makeError(name, ": cannot decode ", format, ": ", state.message);
  RgbImage image;
  image.width = state.width;
  image.height = state.height;
  image.pixels.assign(state.pixels, state.pixels + size_t(state.width) * state.height * 3);
  std::free(state.pixels);
  return image;
}

RgbImage readImageFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw makeError(path, ": cannot open image file");
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    throw makeError(path, ": read error");
  return decodeImage(bytes, path);
}

} // namespace mm::image
