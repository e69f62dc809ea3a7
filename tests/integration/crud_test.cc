// CRUD, optimistic concurrency, server-side apply, /status and paging against the real server.
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "itest_env.h"

namespace stepline::k8s::itest {
namespace {

class CrudTest : public IntegrationTest {};

TEST_F(CrudTest, CreateGetListUpdatePatchDelete) {
  Result<Object> created = client_->Create(kWidgets, ns_, NewWidget(ns_, "w1", 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(UidOf(*created).empty());
  EXPECT_TRUE(client_->Create(kWidgets, ns_, NewWidget(ns_, "w1")).status().IsAlreadyExists());

  Result<Object> got = client_->Get(kWidgets, ns_, "w1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["spec"]["size"], 1);

  Object changed = *got;
  changed["spec"]["size"] = 2;
  Result<Object> updated = client_->Update(kWidgets, ns_, changed);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_NE(ResourceVersionOf(*updated), ResourceVersionOf(*got));

  Result<Object> merged = client_->Patch(kWidgets, ns_, "w1", PatchType::kMerge,
                                         R"({"metadata":{"labels":{"tier":"gold"}}})");
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  Result<Object> json = client_->Patch(kWidgets, ns_, "w1", PatchType::kJson,
                                       R"([{"op":"replace","path":"/spec/size","value":3}])");
  ASSERT_TRUE(json.ok()) << json.status().ToString();
  EXPECT_EQ((*json)["spec"]["size"], 3);

  Result<ObjectList> list = client_->List(kWidgets, ns_, {.label_selector = "tier=gold"});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->items.size(), 1u);
  EXPECT_EQ(list->items[0]["kind"], "Widget");
  EXPECT_EQ(list->items[0]["apiVersion"], "itest.stepline.dev/v1");
  EXPECT_FALSE(list->resource_version.empty());
  EXPECT_TRUE(client_->List(kWidgets, ns_, {.label_selector = "tier=lead"})->items.empty());

  DeleteOptions wrong_uid{.precondition_uid = "not-the-uid"};
  EXPECT_TRUE(client_->Delete(kWidgets, ns_, "w1", wrong_uid).IsConflict());
  DeleteOptions right{.propagation_policy = "Background",
                      .grace_period_seconds = 0,
                      .precondition_uid = UidOf(*created)};
  ASSERT_TRUE(client_->Delete(kWidgets, ns_, "w1", right).ok());
  Result<Object> gone = client_->Get(kWidgets, ns_, "w1");
  EXPECT_TRUE(gone.status().IsNotFound()) << gone.status().ToString();
  EXPECT_EQ(gone.status().reason(), "NotFound");
  EXPECT_TRUE(client_->Delete(kWidgets, ns_, "w1").IsNotFound());
}

TEST_F(CrudTest, StaleUpdateIsAConflict) {
  Result<Object> created = client_->Create(kWidgets, ns_, NewWidget(ns_, "w", 1));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  Object first = *created, second = *created;
  first["spec"]["size"] = 10;
  ASSERT_TRUE(client_->Update(kWidgets, ns_, first).ok());
  second["spec"]["size"] = 20;  // still carries the old resourceVersion
  Result<Object> stale = client_->Update(kWidgets, ns_, second);
  EXPECT_TRUE(stale.status().IsConflict()) << stale.status().ToString();
  EXPECT_EQ(stale.status().http_code(), 409);
  EXPECT_EQ(stale.status().reason(), "Conflict");
  EXPECT_NE(stale.status().message().find("the object has been modified"), std::string::npos);
}

TEST_F(CrudTest, ServerSideApplyConflictThenForce) {
  const std::string doc =
      "apiVersion: itest.stepline.dev/v1\nkind: Widget\nmetadata:\n  name: a\n"
      "  namespace: " +
      ns_ + "\nspec:\n  size: ";
  Result<Object> first = client_->Patch(kWidgets, ns_, "a", PatchType::kApply, doc + "1\n",
                                        {.field_manager = "alice"});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ((*first)["spec"]["size"], 1);
  Result<Object> conflict =
      client_->Patch(kWidgets, ns_, "a", PatchType::kApply, doc + "2\n", {.field_manager = "bob"});
  EXPECT_TRUE(conflict.status().IsConflict()) << conflict.status().ToString();
  EXPECT_NE(conflict.status().message().find("alice"), std::string::npos);
  Result<Object> forced = client_->Patch(kWidgets, ns_, "a", PatchType::kApply, doc + "2\n",
                                         {.field_manager = "bob", .force = true});
  ASSERT_TRUE(forced.ok()) << forced.status().ToString();
  EXPECT_EQ((*forced)["spec"]["size"], 2);
  std::set<std::string> managers;
  for (const auto& entry : (*forced)["metadata"]["managedFields"]) {
    managers.insert(entry.value("manager", ""));
  }
  EXPECT_TRUE(managers.count("bob"));
}

TEST_F(CrudTest, StatusSubresourceLeavesSpecAlone) {
  Object widget = NewWidget(ns_, "s", 1);
  widget["status"] = {{"phase", "Ignored"}};
  Result<Object> created = client_->Create(kWidgets, ns_, widget);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE(created->contains("status")) << "status in a create is dropped";

  Object write = *created;
  write["spec"]["size"] = 99;  // must be ignored by /status
  write["status"] = {{"phase", "Running"}};
  Result<Object> written = client_->UpdateStatus(kWidgets, ns_, write);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ((*written)["status"]["phase"], "Running");
  EXPECT_EQ((*written)["spec"]["size"], 1);

  Result<Object> patched =
      client_->Patch(kWidgets, ns_, "s", PatchType::kMerge,
                     R"({"status":{"phase":"Done"},"spec":{"size":7}})", {}, "status");
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  Result<Object> fresh = client_->Get(kWidgets, ns_, "s");
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)["status"]["phase"], "Done");
  EXPECT_EQ((*fresh)["spec"]["size"], 1);
}

TEST_F(CrudTest, ListPaginationOverMoreThanAThousandObjects) {
  constexpr int kObjects = 1050;
  std::atomic<int> next{0}, failures{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 16; ++t) {
    writers.emplace_back([&] {
      for (int i = next++; i < kObjects; i = next++) {
        if (!client_->Create(kWidgets, ns_, NewWidget(ns_, "p-" + std::to_string(i), i)).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  ASSERT_EQ(failures.load(), 0);

  ListOptions opts{.limit = 100};
  std::set<std::string> names;
  int pages = 0;
  std::string rv;
  do {
    Result<ObjectList> page = client_->List(kWidgets, ns_, opts);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    EXPECT_LE(page->items.size(), 100u);
    for (const auto& item : page->items) names.insert(NameOf(item));
    if (pages == 0) rv = page->resource_version;
    EXPECT_EQ(page->resource_version, rv) << "all pages are one consistent snapshot";
    opts.continue_token = page->continue_token;
    ++pages;
  } while (!opts.continue_token.empty());
  EXPECT_EQ(pages, 11);
  EXPECT_EQ(names.size(), static_cast<size_t>(kObjects));
  Result<ObjectList> all = ListAll(*client_, kWidgets, ns_, {}, 500);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), static_cast<size_t>(kObjects));
}

}  // namespace
}  // namespace stepline::k8s::itest
