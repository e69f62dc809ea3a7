#include "k8sclient/client.h"

namespace stepline::k8s {

Result<ObjectList> ListAll(ObjectReader& reader, const Resource& res, const std::string& ns,
                           ListOptions opts, int64_t page_size) {
  opts.limit = page_size;
  opts.continue_token.clear();
  ObjectList all;
  while (true) {
    Result<ObjectList> page = reader.List(res, ns, opts);
    if (!page.ok()) return page.status();
    for (auto& item : page->items) all.items.push_back(std::move(item));
    all.resource_version = page->resource_version;
    if (page->continue_token.empty()) break;
    opts.continue_token = page->continue_token;
  }
  return all;
}

}  // namespace stepline::k8s
