//===- Planted.cpp --------------------------------------------------------===//
#include "training/amer/Planted.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"
#include "training/amer/Random.h"

#include <cmath>
#include <filesystem>
#include <sstream>
#include <vector>

namespace mm::amer {

void writePlantedData(const std::string &dir, const PlantedOptions &o) {
  if (o.users < 2 || o.items < 2 * o.categories || o.perUser < 3 || o.categories < 2)
    throw makeError("planted data: need users >= 2, per-user >= 3, categories >= 2 and items >= "
                    "2 x categories");
  namespace fs = std::filesystem;
  fs::path root(dir);
  std::string name = root.filename().string();
  if (name.empty())
    name = root.parent_path().filename().string();
  fs::create_directories(root);
  SplitMix rng(o.seed * 0xd1342543de82ef95ull + 1);
  const int64_t ages = 24, regions = 5, pages = 24, slots = 4, brands = 10, rank = 4;
  // Rank-4 latent factors per value (Box-Muller normals): the interaction
  // <u_age, v_page> / 2 has unit variance and no main effect.
  auto factors = [&](int64_t n) {
    std::vector<std::vector<double>> f(n, std::vector<double>(rank));
    for (auto &row : f)
      for (double &x : row)
        x = std::sqrt(-2.0 * std::log(1.0 - rng.uniform())) * std::cos(2.0 * M_PI * rng.uniform());
    return f;
  };
  auto ageFactor = factors(ages), pageFactor = factors(pages);
  auto interaction = [&](int64_t a, int64_t p) {
    double dot = 0;
    for (int64_t k = 0; k < rank; ++k)
      dot += ageFactor[a][k] * pageFactor[p][k];
    return dot / std::sqrt(double(rank));
  };
  std::vector<int64_t> category(o.items + 1), brand(o.items + 1);
  for (int64_t i = 1; i <= o.items; ++i) {
    category[i] = (i - 1) % o.categories;
    brand[i] = int64_t(rng.below(brands));
  }
  std::ostringstream user, item, inter;
  user << "user_id:token\tage_band:token\tregion:token\n";
  item << "item_id:token\tcategory:token\tbrand:token\n";
  inter << "user_id:token\titem_id:token\tlabel:float\ttimestamp:float\tpage:token\tslot:token\n";
  for (int64_t i = 1; i <= o.items; ++i)
    item << "i" << i << "\tc" << category[i] << "\tb" << brand[i] << "\n";
  for (int64_t u = 1; u <= o.users; ++u) {
    int64_t age = int64_t(rng.below(ages)), clock = 1000000 + u * 1000;
    user << "u" << u << "\ta" << age << "\tr" << rng.below(regions) << "\n";
    std::vector<int64_t> seen;
    for (int64_t t = 0; t < o.perUser; ++t) {
      // The target: the most recent item again, an older one of the window,
      // or a fresh one; only the first makes the sequence term positive.
      double pick = rng.uniform();
      std::vector<int64_t> older; // the window before the last item, without it
      for (size_t k = seen.size() > size_t(o.window) ? seen.size() - o.window : 0;
           k + 1 < seen.size(); ++k)
        if (seen[k] != seen.back())
          older.push_back(seen[k]);
      int64_t it;
      if (!seen.empty() && pick < o.repeat)
        it = seen.back();
      else if (!older.empty() && pick < o.repeat + o.older)
        it = older[rng.below(older.size())];
      else
        it = 1 + int64_t(rng.below(uint64_t(o.items)));
      int64_t page = int64_t(rng.below(pages));
      double z = o.interactionWeight * interaction(age, page);
      if (!seen.empty())
        z += it == seen.back() ? 1.0 : -1.0;
      int label = rng.uniform() < 1.0 / (1.0 + std::exp(-o.strength * z)) ? 1 : 0;
      inter << "u" << u << "\ti" << it << "\t" << label << "\t" << clock + t << "\tp" << page
            << "\ts" << rng.below(slots) << "\n";
      seen.push_back(it);
    }
  }
  train::writeFileAtomically((root / (name + ".user")).string(), user.str());
  train::writeFileAtomically((root / (name + ".item")).string(), item.str());
  train::writeFileAtomically((root / (name + ".inter")).string(), inter.str());
  train::writeFileAtomically(
      (root / "planted.json").string(),
      "{\n  \"interaction\": [\"age_band\", \"page\"],\n"
      "  \"sequence_family\": [\"conv3\", \"conv5\", \"dilated_conv3\", \"gru\"]\n}\n");
}

} // namespace mm::amer
