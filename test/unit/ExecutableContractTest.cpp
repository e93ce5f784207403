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

/// A language model's step: ids, positions [B, T], cache positions, lengths
/// [B], a cache [B, S, 2] carried as state; logits [B, 10]. B <= 4, T <= 16,
/// S <= 64.
exe::Executable generationStep() {
  exe::Executable e;
  e.set_format_version(kExecutableFormatVersion);
  e.set_target(exe::TARGET_CPU);
  e.set_function_name("forward");
  for (auto [name, max] : {std::pair("B", 4), std::pair("T", 16), std::pair("S", 64)}) {
    exe::Symbol *s = e.add_symbols();
    s->set_name(name);
    s->set_max(max);
  }
  // dims as (coefficient, symbol index or -1)
  auto buffer = [&](exe::Buffer::Storage storage, exe::DType dtype,
                    std::vector<std::pair<int64_t, int>> dims) {
    exe::Buffer *b = e.add_buffers();
    b->set_id(e.buffers_size() - 1);
    b->set_storage(storage);
    b->set_dtype(dtype);
    b->set_name("b" + std::to_string(b->id()));
    for (auto [c, symbol] : dims) {
      exe::Dim *d = b->add_shape();
      d->set_coefficient(c);
      for (int i = 0; i < 3; ++i)
        d->add_exponents(i == symbol ? 1 : 0);
    }
    return b->id();
  };
  using G = exe::GenerationStep;
  exe::GenerationStep *g = e.mutable_generation_step();
  for (auto [role, dims] :
       {std::pair(G::INPUT_TOKEN_IDS, std::vector<std::pair<int64_t, int>>{{1, 0}, {1, 1}}),
        std::pair(G::INPUT_POSITIONS, std::vector<std::pair<int64_t, int>>{{1, 0}, {1, 1}}),
        std::pair(G::INPUT_CACHE_POSITIONS, std::vector<std::pair<int64_t, int>>{{1, 0}}),
        std::pair(G::INPUT_LENGTHS, std::vector<std::pair<int64_t, int>>{{1, 0}})}) {
    uint32_t id = buffer(exe::Buffer::STORAGE_INPUT, exe::DTYPE_I64, dims);
    e.add_argument_buffers(id);
    e.add_input_buffers(id);
    g->add_inputs(role);
  }
  uint32_t cache = buffer(exe::Buffer::STORAGE_STATE, exe::DTYPE_F32, {{1, 0}, {1, 2}, {2, -1}});
  e.add_argument_buffers(cache);
  e.add_state_buffers(cache);
  uint32_t logits = buffer(exe::Buffer::STORAGE_ARENA, exe::DTYPE_F32, {{1, 0}, {10, -1}});
  e.add_result_buffers(logits);
  e.add_result_buffers(cache);
  g->set_batch_symbol("B");
  g->set_tokens_symbol("T");
  g->set_capacity_symbol("S");
  g->set_logits_buffer(logits);
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
  EXPECT_NE(parseError(e).find("format version 2, this runtime reads version 6"),
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
  exe::Executable e = generationStep();
  ExecutableLayout layout(e);
  EXPECT_EQ(layout.maximumFlag("B"), "mm-compile --max-batch");
  EXPECT_EQ(layout.maximumFlag("T"), "mm-compile --max-tokens");
  EXPECT_EQ(layout.maximumFlag("S"), "mm-compile --max-context");
  EXPECT_EQ(layout.maximumFlag("rows"), "mm-compile --max rows=VALUE");
  // Without a generation step no symbol has a language-model flag.
  exe::Executable plain = twoArgs();
  EXPECT_EQ(ExecutableLayout(plain).maximumFlag("B"), "mm-compile --max B=VALUE");
}

TEST(ExecutableFile, AGenerationStepParses) { EXPECT_EQ(parseError(generationStep()), ""); }

TEST(ExecutableFile, RejectsABrokenGenerationStep) {
  using G = exe::GenerationStep;
  exe::Executable e = generationStep();
  e.mutable_generation_step()->set_inputs(1, G::INPUT_TOKEN_IDS);
  EXPECT_NE(parseError(e).find("test.mmx: the generation step gives input 'b1' no role, an "
                               "unknown one or one that another input has"),
            std::string::npos);
  e = generationStep();
  e.mutable_generation_step()->set_inputs(3, G::Input(17));
  EXPECT_NE(parseError(e).find("gives input 'b3' no role"), std::string::npos);
  e = generationStep();
  e.mutable_generation_step()->mutable_inputs()->RemoveLast();
  EXPECT_NE(parseError(e).find("the generation step names 3 inputs; the function has 4"),
            std::string::npos);
  // cache positions as a float: the engine would hand it int64 bytes.
  e = generationStep();
  e.mutable_buffers(2)->set_dtype(exe::DTYPE_F32);
  EXPECT_NE(parseError(e).find("the generation step's input 'b2' must be i64"), std::string::npos);
  e = generationStep();
  e.mutable_generation_step()->set_capacity_symbol("C");
  EXPECT_NE(parseError(e).find("shape symbol 'S' is not the generation step's batch, tokens, "
                               "capacity or image tokens"),
            std::string::npos);
  e = generationStep();
  e.mutable_generation_step()->set_image_tokens_symbol("I");
  EXPECT_NE(parseError(e).find("names shape symbol 'I', which is not one"), std::string::npos);
  e = generationStep();
  e.mutable_generation_step()->set_capacity_symbol("B"); // S then has no role
  EXPECT_NE(parseError(e).find("shape symbol 'S' is not the generation step's"), std::string::npos);
  // Two roles for one symbol: the state would be sized for one value, the
  // step run for the other.
  e = generationStep();
  e.mutable_symbols()->RemoveLast();
  for (exe::Buffer &b : *e.mutable_buffers())
    for (exe::Dim &d : *b.mutable_shape())
      d.mutable_exponents()->RemoveLast();
  e.mutable_generation_step()->set_capacity_symbol("B");
  EXPECT_NE(parseError(e).find("gives shape symbol 'B' two roles"), std::string::npos);
  // Logits that are not [B, vocab]: the engine would read past them.
  e = generationStep();
  e.mutable_buffers(5)->mutable_shape(0)->set_coefficient(2);
  EXPECT_NE(parseError(e).find("the generation step's logits 'b5' are not [B, vocab]"),
            std::string::npos);
  e = generationStep();
  e.mutable_generation_step()->set_all_logits(true);
  EXPECT_NE(parseError(e).find("are not [B, T, vocab]"), std::string::npos);
  e = generationStep();
  e.mutable_generation_step()->set_logits_buffer(0); // an input, not a result
  EXPECT_NE(parseError(e).find("the generation step's logits are not an f32 result"),
            std::string::npos);
}

TEST(ExecutableLayout, OrdersTheStepInputsByTheirDeclaredRoles) {
  using G = exe::GenerationStep;
  // The same buffers with the roles of ids and lengths swapped (lengths is
  // then [B, T] and ids [B]): the layout must follow the roles, not the order.
  exe::Executable e = generationStep();
  e.mutable_generation_step()->set_inputs(0, G::INPUT_LENGTHS);
  e.mutable_generation_step()->set_inputs(3, G::INPUT_TOKEN_IDS);
  ExecutableLayout layout(e);
  std::vector<int64_t> symbols = layout.stepSymbols(2, 3, 5);
  EXPECT_EQ(symbols, (std::vector<int64_t>{2, 3, 5}));
  Tensor ids = Tensor::zeros(DType::I64, {2}), positions = Tensor::zeros(DType::I64, {2, 3}),
         cached = Tensor::zeros(DType::I64, {2}), lengths = Tensor::zeros(DType::I64, {2, 3});
  std::vector<const Tensor *> ordered =
      layout.stepInputs({&ids, &positions, &cached, &lengths}, symbols);
  EXPECT_EQ(ordered, (std::vector<const Tensor *>{&lengths, &positions, &cached, &ids}));
  try {
    layout.stepInputs({&lengths, &positions, &cached, &ids}, symbols);
    FAIL() << "no error";
  } catch (const Error &err) {
    EXPECT_STREQ(err.what(), "step: input 'b0' must be i64 of shape 2x3");
  }
  EXPECT_EQ(layout.stateSymbols(2, 7), (std::vector<int64_t>{2, 16, 7}));
  try {
    layout.stateSymbols(2, 65);
    FAIL() << "no error";
  } catch (const Error &err) {
    EXPECT_STREQ(err.what(), "context 65 tokens exceeds the compiled maximum 64 "
                             "(mm-compile --max-context)");
  }
}

TEST(ExecutableLayout, AFunctionWithoutAGenerationStepIsNotStepped) {
  exe::Executable e = twoArgs();
  ExecutableLayout layout(e);
  try {
    layout.stateSymbols(1, 1);
    FAIL() << "no error";
  } catch (const Error &err) {
    EXPECT_NE(std::string(err.what()).find("@f declares no generation step"), std::string::npos);
  }
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
