//===- ImageProbe.cpp - runs the image pipeline for check_pillow.py -------===//
//
// Reads commands, one per line, from the file named by argv[1], and answers
// each with one JSON line on stdout; pixels go to raw files the script reads
// with numpy. Errors answer {"error": ...} and the probe goes on, so the
// script can check refusals too.
//   decode IN OUT            RGB uint8 of IN
//   resize IN W H OUT        Pillow BICUBIC resize of IN to W x H
//   anyres IN OUT_U8 OUT_F32 tiles (thumbnail first) and pixel_values
//   layout W H               the token layout of a W x H image
//
//===----------------------------------------------------------------------===//
#include "frontends/image/AnyRes.h"
#include "frontends/image/PillowResize.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

using namespace mm;
using namespace mm::image;

namespace {

void writeRaw(const std::string &path, const void *data, size_t bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(static_cast<const char *>(data), static_cast<std::streamsize>(bytes));
  if (!out)
    throw makeError(path, ": cannot write");
}

nlohmann::json layoutJson(const ImageTokenLayout &l) {
  return {{"best", {l.bestWidth, l.bestHeight}},
          {"resized", {l.resizedWidth, l.resizedHeight}},
          {"paste", {l.pasteX, l.pasteY}},
          {"grid", {l.gridRows, l.gridCols}},
          {"rows", {l.rowBegin, l.rowEnd}},
          {"cols", {l.colBegin, l.colEnd}},
          {"tokens", l.tokens()}};
}

nlohmann::json run(const std::string &line, const AnyResConfig &config) {
  std::istringstream in(line);
  std::string command;
  in >> command;
  if (command == "decode") {
    std::string path, out;
    in >> path >> out;
    RgbImage image = readImageFile(path);
    writeRaw(out, image.pixels.data(), image.pixels.size());
    return {{"width", image.width}, {"height", image.height}};
  }
  if (command == "resize") {
    std::string path, out;
    int64_t w, h;
    in >> path >> w >> h >> out;
    RgbImage image = resizeBicubic(readImageFile(path), w, h);
    writeRaw(out, image.pixels.data(), image.pixels.size());
    return {{"width", image.width}, {"height", image.height}};
  }
  if (command == "anyres") {
    std::string path, outU8, outF32;
    in >> path >> outU8 >> outF32;
    RgbImage image = readImageFile(path);
    ImageTokenLayout layout = imageTokenLayout(image.width, image.height, config, path);
    std::vector<RgbImage> tiles = anyResTiles(image, layout, config);
    std::string bytes;
    for (const RgbImage &t : tiles)
      bytes.append(reinterpret_cast<const char *>(t.pixels.data()), t.pixels.size());
    writeRaw(outU8, bytes.data(), bytes.size());
    Tensor pixels = normalizeTiles(tiles, config);
    writeRaw(outF32, pixels.data<float>(), pixels.nbytes());
    nlohmann::json j = layoutJson(layout);
    j["tiles"] = tiles.size();
    return j;
  }
  if (command == "layout") {
    int64_t w, h;
    in >> w >> h;
    return layoutJson(imageTokenLayout(w, h, config));
  }
  throw makeError("unknown probe command '", command, "'");
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::cerr << "usage: mm-image-probe COMMANDS.txt\n";
    return 2;
  }
  AnyResConfig config;
  config.pinpoints = AnyResConfig::releasedPinpoints();
  std::ifstream commands(argv[1]);
  if (!commands) {
    std::cerr << argv[1] << ": cannot open\n";
    return 2;
  }
  std::string line;
  while (std::getline(commands, line)) {
    if (line.empty())
      continue;
    try {
      std::cout << run(line, config).dump() << "\n";
    } catch (const std::exception &e) {
      std::cout << nlohmann::json{{"error", e.what()}}.dump() << "\n";
    }
  }
  return 0;
}
