//===- ExecutableContractTest.cpp - the executable's interface, checked ----===//
//
// The runtime trusts nothing in an executable it has not validated, and binds
// a call's shape symbols from the arguments alone. These tests build small
// executables by hand (as a corrupt or hostile file could be) and check both.
//
//===----------------------------------------------------------------------===//
#include "runtime/compiled/ExecutableLayout.h"
#include "runtime/executable/ExecutableFile.h"

#include <gtest/gtest.h>

using namespace mm;

namespace {
/// f(x: [N, 4] f32, ids: [N] i64) -> [2N, 4] f32 with N <= 8.
exe::Executable twoArgs() {
  exe::Executable e;
  e.set_format_version(kExecutableFormatVersion);
  e.set_target(exe::TARGET_CPU);
  e.set_function_name("f");
  exe::Symbol *n = e.add_symbols();
  n->set_name("N");
  n->set_max(8);
  auto buffer = [&](exe::Buffer::Storage storage, exe::DType dtype,
                    std::vector<std::pair<int64_t, uint32_t>> dims) {
    exe::Buffer *b = e.add_buffers();
    b->set_id(e.buffers_size() - 1);
    b->set_storage(storage);
    b->set_dtype(dtype);
    b->set_name("b" + std::to_string(b->id()));
    for (auto [c, x] : dims) {
      exe::Dim *d = b->add_shape();
      d->set_coefficient(c);
      d->add_exponents(x);
    }
    return b->id();
  };
  e.add_argument_buffers(buffer(exe::Buffer::STORAGE_INPUT, exe::DTYPE_F32, {{1, 1}, {4, 0}}));
  e.add_argument_buffers(buffer(exe::Buffer::STORAGE_INPUT, exe::DTYPE_I64, {{1, 1}}));
  e.add_input_buffers(0);
  e.add_input_buffers(1);
  e.add_result_buffers(buffer(exe::Buffer::STORAGE_ARENA, exe::DTYPE_F32, {{2, 1}, {4, 0}}));
  return e;
}

std::string serialise(const exe::Executable &e) {
  std::string bytes;
  e.SerializeToString(&bytes);
  return bytes;
}

std::string parseError(const exe::Executable &e) {
  try {
    parseExecutable(serialise(e), "test.mmx");
  } catch (const Error &err) {
    return err.what();
  }
  return "";
}
} // namespace

TEST(ExecutableFile, AValidExecutableParses) { EXPECT_EQ(parseError(twoArgs()), ""); }

TEST(ExecutableFile, RejectsBrokenInterfaces) {
  exe::Executable e = twoArgs();
  e.add_result_buffers(17);
  EXPECT_NE(parseError(e).find("test.mmx: a result refers to buffer 17 of 3"), std::string::npos);

  e = twoArgs();
  e.clear_input_buffers();
  EXPECT_NE(parseError(e).find("the inputs and state do not partition the arguments"),
            std::string::npos);
  // The right count, but an input that is not an argument (the result buffer).
  e = twoArgs();
  e.set_input_buffers(1, 2);
  EXPECT_NE(parseError(e).find("the inputs and state do not partition the arguments"),
            std::string::npos);

  e = twoArgs();
  e.clear_result_buffers();
  EXPECT_NE(parseError(e).find("the function has no results"), std::string::npos);

  e = twoArgs();
  e.mutable_buffers(2)->set_view_of(9);
  EXPECT_NE(parseError(e).find("is a view of a missing buffer or of a view"), std::string::npos);

  e = twoArgs();
  e.set_format_version(2);
  EXPECT_NE(parseError(e).find("format version 2, this runtime reads version 5"),
            std::string::npos);
}

TEST(ExecutableLayout, BindsSymbolsFromTheArguments) {
  exe::Executable e = twoArgs();
  ExecutableLayout layout(e);
  std::vector<Tensor> args{Tensor::zeros(DType::F32, {5, 4}), Tensor::zeros(DType::I64, {5})};
  std::vector<int64_t> symbols = layout.bindSymbols(args);
  ASSERT_EQ(symbols, std::vector<int64_t>{5});
  EXPECT_EQ(layout.dims(e.buffers(2), symbols), (std::vector<int64_t>{10, 4}));
}

TEST(ExecutableLayout, RefusesWhatThePlanCannotHold) {
  exe::Executable e = twoArgs();
  ExecutableLayout layout(e);
  auto bindError = [&](std::vector<Tensor> args) -> std::string {
    try {
      layout.bindSymbols(args);
    } catch (const Error &err) {
      return err.what();
    }
    return "";
  };
  EXPECT_EQ(bindError({Tensor::zeros(DType::F32, {9, 4}), Tensor::zeros(DType::I64, {9})}),
            "shape symbol N = 9 exceeds the compiled maximum 8 (mm-compile --max N=VALUE)");
  // N is 5 from the first argument; the second disagrees.
  EXPECT_EQ(bindError({Tensor::zeros(DType::F32, {5, 4}), Tensor::zeros(DType::I64, {6})}),
            "argument 1 ('b1') has shape 6, expected 5");
  EXPECT_EQ(bindError({Tensor::zeros(DType::F32, {5, 3}), Tensor::zeros(DType::I64, {5})}),
            "argument 0 ('b0') has shape 5x3, expected 5x4");
  EXPECT_EQ(bindError({Tensor::zeros(DType::I64, {5, 4}), Tensor::zeros(DType::I64, {5})}),
            "argument 0 ('b0') must be a float tensor");
  EXPECT_EQ(bindError({Tensor::zeros(DType::F32, {5, 4})}), "@f takes 2 arguments, got 1");
  EXPECT_EQ(bindError({Tensor::zeros(DType::F32, {5}), Tensor::zeros(DType::I64, {5})}),
            "argument 0 ('b0') has rank 1, expected 2");
}

TEST(ExecutableLayout, NamesTheFlagThatRaisesAMaximum) {
  EXPECT_EQ(ExecutableLayout::maximumFlag("B"), "mm-compile --max-batch");
  EXPECT_EQ(ExecutableLayout::maximumFlag("T"), "mm-compile --max-tokens");
  EXPECT_EQ(ExecutableLayout::maximumFlag("S"), "mm-compile --max-context");
  EXPECT_EQ(ExecutableLayout::maximumFlag("rows"), "mm-compile --max rows=VALUE");
}

TEST(ExecutableFile, RejectsHostileSizes) {
  exe::Executable e = twoArgs();
  e.mutable_buffers(0)->mutable_shape(0)->set_exponents(0, 1000000000);
  EXPECT_NE(parseError(e).find("buffer 'b0' has a malformed dim"), std::string::npos);
  e = twoArgs();
  e.mutable_symbols(0)->set_max(0);
  EXPECT_NE(parseError(e).find("shape symbol 'N' has maximum 0"), std::string::npos);
}

TEST(ExecutableLayout, SizesThatOverflowAreErrors) {
  exe::Executable e = twoArgs();
  e.mutable_buffers(2)->mutable_shape(1)->set_coefficient(int64_t(1) << 62);
  ExecutableLayout layout(e);
  try {
    layout.bytes(e.buffers(2), {8});
    FAIL() << "no error";
  } catch (const Error &err) {
    EXPECT_STREQ(err.what(), "buffer 'b2': its size overflows 64 bits");
  }
}
