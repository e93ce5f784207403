//===- ParallelLayout.cpp - parse and check --parallel layouts --------------===//
#include "frontends/ParallelLayout.h"
#include "runtime/Error.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

namespace mm {

std::string ParallelLayout::str() const {
  std::ostringstream os;
  os << "tp=" << tp << ",cp=" << cp << ",dp=" << dp << ",ep=" << ep << ",etp=" << etp
     << ",edp=" << edp;
  return os.str();
}

namespace {
void checkRank(int64_t rank, int64_t world) {
  if (rank < 0 || rank >= world)
    throw makeError("rank ", rank, " is outside the world [0, ", world, ")");
}
} // namespace

ParallelLayout::DenseCoord ParallelLayout::dense(int64_t rank) const {
  checkRank(rank, world);
  return {rank % tp, (rank / tp) % cp, rank / (tp * cp)};
}

ParallelLayout::MoeCoord ParallelLayout::moe(int64_t rank) const {
  checkRank(rank, world);
  return {rank % etp, (rank / etp) % ep, rank / (etp * ep)};
}

namespace {

// Large enough for any machine, small enough that products of three stay far
// from overflow.
constexpr int64_t kMaxFactor = int64_t(1) << 20;

int64_t parseFactor(const std::string &flag, const std::string &key, const std::string &value) {
  bool digits = !value.empty() && value.size() <= 7 &&
                value.find_first_not_of("0123456789") == std::string::npos;
  int64_t v = digits ? std::stoll(value) : 0;
  if (!digits || v <= 0 || v > kMaxFactor)
    throw makeError(flag, ": ", key, "='", value, "' is not a positive integer (at most ",
                    kMaxFactor, ")");
  return v;
}

/// Fills `fill` (dp or edp) so that fill * a * b == world, or checks a given one.
int64_t fillWorld(const std::string &flag, std::optional<int64_t> given, const char *fillName,
                  int64_t a, const char *aName, int64_t b, const char *bName, int64_t world) {
  if (given) {
    if (*given * a * b != world)
      throw makeError(flag, ": ", fillName, " x ", aName, " x ", bName, " = ", *given, " x ", a,
                      " x ", b, " = ", *given * a * b, " is not the world size ", world);
    return *given;
  }
  if (world % (a * b) != 0)
    throw makeError(flag, ": ", aName, " x ", bName, " = ", a, " x ", b, " = ", a * b,
                    " does not divide the world size ", world);
  return world / (a * b);
}

} // namespace

ParallelLayout parseParallelLayout(const std::string &text, int64_t world) {
  const std::string flag = "--parallel '" + text + "'";
  if (world <= 0)
    throw makeError(flag, ": the world size must be positive, got ", world);
  std::map<std::string, int64_t> given;
  std::stringstream in(text);
  std::string item;
  while (!text.empty() && std::getline(in, item, ',')) {
    size_t eq = item.find('=');
    if (item.empty() || eq == std::string::npos)
      throw makeError(flag, ": '", item, "' is not KEY=VALUE (e.g. tp=2,ep=2)");
    std::string key = item.substr(0, eq);
    if (key != "tp" && key != "cp" && key != "dp" && key != "ep" && key != "etp" && key != "edp")
      throw makeError(flag, ": unknown factor '", key, "' (expected tp, cp, dp, ep, etp or edp)");
    if (given.count(key))
      throw makeError(flag, ": factor '", key, "' is given twice");
    given[key] = parseFactor(flag, key, item.substr(eq + 1));
  }
  if (!text.empty() && text.back() == ',')
    throw makeError(flag, ": '' is not KEY=VALUE (e.g. tp=2,ep=2)");
  auto get = [&](const char *k) -> std::optional<int64_t> {
    auto it = given.find(k);
    return it == given.end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  ParallelLayout l;
  l.world = world;
  l.tp = get("tp").value_or(1);
  l.cp = get("cp").value_or(1);
  l.ep = get("ep").value_or(1);
  l.etp = get("etp").value_or(1);
  l.dp = fillWorld(flag, get("dp"), "dp", l.cp, "cp", l.tp, "tp", world);
  l.edp = fillWorld(flag, get("edp"), "edp", l.etp, "etp", l.ep, "ep", world);
  return l;
}

ParallelLayout parseTensorParallelGroup(const std::string &text) {
  std::smatch tp;
  if (!std::regex_match(text, std::regex("(tp|ep|etp)=[0-9]{1,6}(,(tp|ep|etp)=[0-9]{1,6})*")) ||
      !std::regex_search(text, tp, std::regex("(^|,)tp=([0-9]{1,6})")))
    throw makeError("--parallel '", text, "': takes tp=N[,ep=M][,etp=K] so far (cp and dp are "
                    "not built for inference)");
  return parseParallelLayout(text, std::max<int64_t>(1, std::stoll(tp[2].str()))); // its checks
}

namespace {
void requireDivides(const MiniMaxConfig &c, const ParallelLayout &l, const char *field,
                    int64_t value, const char *factor, int64_t by) {
  if (value % by != 0)
    throw makeError(c.source, ": field '", field, "' = ", value, " is not divisible by ", factor,
                    " = ", by, " (layout ", l.str(), ")");
}
} // namespace

void checkLayoutFitsModel(const ParallelLayout &l, const MiniMaxConfig &c) {
  requireDivides(c, l, "num_attention_heads", c.numHeads, "tp", l.tp);
  if (l.tp <= c.numKvHeads)
    requireDivides(c, l, "num_key_value_heads", c.numKvHeads, "tp", l.tp);
  else if (l.tp % c.numKvHeads != 0) // replicated: each KV head on tp / numKvHeads ranks
    throw makeError(
        c.source, ": field 'num_key_value_heads' = ", c.numKvHeads, ": tp = ", l.tp,
        " exceeds it and is not a multiple of it, so the KV heads cannot be replicated evenly "
        "(layout ",
        l.str(), ")");
  requireDivides(c, l, "vocab_size", c.vocabSize, "tp", l.tp);
  requireDivides(c, l, "num_local_experts", c.numExperts, "ep", l.ep);
  requireDivides(c, l, "intermediate_size", c.intermediateSize, "etp", l.etp);
}

int64_t kvHeadsPerTpRank(const ParallelLayout &l, const MiniMaxConfig &c) {
  return l.tp > c.numKvHeads ? 1 : c.numKvHeads / l.tp;
}

std::string modelParallelMismatch(const MiniMaxConfig &config, int64_t tp, int64_t ep,
                                  int64_t etp) {
  auto splits = [](const char *field, int64_t n, const char *factor, int64_t parts) {
    return std::string(field) + " " + std::to_string(n) + " does not split over " + factor + "=" +
           std::to_string(parts);
  };
  if (tp < 1 || ep < 1 || etp < 1)
    return "tp, ep and etp must be positive";
  if (config.numHeads % tp != 0)
    return splits("num_attention_heads", config.numHeads, "tp", tp);
  // Past the KV heads each rank holds a copy of one (vLLM's replication).
  if (tp <= config.numKvHeads ? config.numKvHeads % tp != 0 : tp % config.numKvHeads != 0)
    return splits("num_key_value_heads", config.numKvHeads, "tp", tp) +
           " (tp must divide the KV heads, or be a multiple of them to replicate each on tp / " +
           std::to_string(config.numKvHeads) + " ranks)";
  if (tp % (ep * etp) != 0)
    return "ep=" + std::to_string(ep) + " x etp=" + std::to_string(etp) + " does not divide tp=" +
           std::to_string(tp);
  if (config.numExperts % ep != 0)
    return splits("num_local_experts", config.numExperts, "ep", ep);
  if (config.intermediateSize % etp != 0)
    return splits("intermediate_size", config.intermediateSize, "etp", etp);
  return "";
}

} // namespace mm
