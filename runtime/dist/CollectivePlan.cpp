//===- CollectivePlan.cpp -------------------------------------------------===//
#include "runtime/dist/CollectivePlan.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

namespace mm::dist {

const char *reductionName(Reduction r) {
  switch (r) {
  case Reduction::Sum:
    return "sum";
  case Reduction::Max:
    return "max";
  case Reduction::Min:
    return "min";
  case Reduction::Product:
    return "product";
  }
  return "?";
}

std::optional<Reduction> parseReduction(const std::string &name) {
  for (Reduction r : {Reduction::Sum, Reduction::Max, Reduction::Min, Reduction::Product})
    if (name == reductionName(r))
      return r;
  return std::nullopt;
}

std::string CollectivePlan::json() const {
  nlohmann::json j;
  j["collective"] = kind;
  j["reduction"] = reductionName(reduction);
  j["grid"] = gridShape;
  j["axes"] = axes;
  j["axis"] = axis;
  if (uneven)
    j["uneven"] = true;
  return j.dump();
}

CollectivePlan CollectivePlan::parse(const std::string &text, const std::string &where) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    CollectivePlan p;
    p.kind = j.at("collective").get<std::string>();
    if (p.kind != "all_reduce" && p.kind != "all_gather" && p.kind != "all_slice" &&
        p.kind != "reduce_scatter")
      throw makeError("unknown collective '", p.kind, "'");
    std::optional<Reduction> r = parseReduction(j.at("reduction").get<std::string>());
    if (!r)
      throw makeError("unknown reduction '", j.at("reduction").get<std::string>(), "'");
    p.reduction = *r;
    p.gridShape = j.at("grid").get<std::vector<int64_t>>();
    p.axes = j.at("axes").get<std::vector<int64_t>>();
    p.axis = j.at("axis").get<int64_t>();
    p.uneven = j.value("uneven", false);
    return p;
  } catch (const nlohmann::json::exception &e) {
    throw makeError(where, ": a malformed collective plan: ", e.what());
  } catch (const Error &e) {
    throw makeError(where, ": ", e.what());
  }
}

} // namespace mm::dist
