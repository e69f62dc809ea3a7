// FakeReader: a k8s::ObjectReader that answers Gets from the objects a test put in it, by name
// (one resource is enough for the tests that use it: a Get of a name it lacks is NotFound). A
// List fails: the code under test is expected to list from a cache, not from the server. Not
// thread-safe: tests fill it before the code under test runs.
#pragma once

#include <map>
#include <string>

#include "k8sclient/client.h"

namespace stepline::fakes {

class FakeReader : public k8s::ObjectReader {
 public:
  k8s::Result<k8s::Object> Get(const k8s::Resource&, const std::string&,
                               const std::string& name) override {
    auto found = objects.find(name);
    if (found == objects.end()) return k8s::Status::NotFound(name + " not found");
    return found->second;
  }
  k8s::Result<k8s::ObjectList> List(const k8s::Resource&, const std::string&,
                                    const k8s::ListOptions&) override {
    return k8s::Status::Internal("fake reader: unexpected list");
  }

  std::map<std::string, k8s::Object> objects;  // by name
};

}  // namespace stepline::fakes
