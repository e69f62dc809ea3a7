#include "controller/flags.h"

#include <gtest/gtest.h>

namespace stepline::controller {
namespace {

using std::chrono::milliseconds;

TEST(FlagsTest, DefaultsAndValues) {
  auto f = ParseFlags({});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->metrics_bind_address, ":8080");
  EXPECT_EQ(f->health_probe_bind_address, ":8081");
  EXPECT_EQ(f->lease_duration, milliseconds(15000));
  EXPECT_FALSE(f->leader_elect);

  f = ParseFlags({"--namespace=ml", "--workers", "4", "--leader-elect",
                  "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline", "1m",
                  "--leader-elect-retry-period=500ms", "--metrics-bind-address=0",
                  "--log-format=json", "--qps=20.5", "--burst=40"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->ns, "ml");
  EXPECT_EQ(f->workers, 4);
  EXPECT_TRUE(f->leader_elect);
  EXPECT_EQ(f->lease_duration, milliseconds(30000));
  EXPECT_EQ(f->renew_deadline, milliseconds(60000));
  EXPECT_EQ(f->retry_period, milliseconds(500));
  EXPECT_EQ(f->metrics_bind_address, "0");
  EXPECT_EQ(f->log_format, "json");
  EXPECT_EQ(f->qps, 20.5);
  EXPECT_EQ(f->burst, 40);
  EXPECT_TRUE(ParseFlags({"--help"})->help);
  EXPECT_FALSE(ParseFlags({"--leader-elect=false"})->leader_elect);
  EXPECT_EQ(ParseFlags({})->scheduling_timeout, milliseconds(600'000));
  EXPECT_EQ(ParseFlags({"--scheduling-timeout=90s"})->scheduling_timeout, milliseconds(90'000));
  EXPECT_FALSE(ParseFlags({"--scheduling-timeout=soon"}).ok());
  EXPECT_EQ(ParseFlags({})->transient_status_delay, milliseconds(10'000));
  EXPECT_EQ(ParseFlags({"--transient-status-delay=0"})->transient_status_delay, milliseconds(0));
  EXPECT_EQ(ParseFlags({"--transient-status-delay", "2s"})->transient_status_delay,
            milliseconds(2'000));
  EXPECT_FALSE(ParseFlags({})->routine_step_events);
  EXPECT_TRUE(ParseFlags({"--routine-step-events"})->routine_step_events);
  EXPECT_FALSE(ParseFlags({"--routine-step-events=false"})->routine_step_events);
}

TEST(FlagsTest, BadFlagsAreNamed) {
  struct Case {
    std::vector<std::string> args;
    std::string want;
  };
  std::vector<Case> cases = {
      {{"--bogus"}, "unknown flag --bogus"},
      {{"--workers=zero"}, "invalid value \"zero\" for flag --workers"},
      {{"--workers=0"}, "for flag --workers"},
      {{"--log-format=xml"}, "--log-format"},
      {{"--leader-elect-lease-duration=soon"}, "--leader-elect-lease-duration"},
      {{"--kubeconfig"}, "flag --kubeconfig needs a value"},
      {{"stray"}, "unexpected argument \"stray\""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.want);
    auto f = ParseFlags(c.args);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.status().message().find(c.want), std::string::npos) << f.status().message();
  }
}

TEST(FlagsTest, Durations) {
  struct Case {
    std::string text;
    bool ok;
    int64_t ms;
  };
  std::vector<Case> cases = {{"15s", true, 15000},  {"1m30s", true, 90000}, {"250ms", true, 250},
                             {"2h", true, 7200000}, {"10", true, 10000},    {"1.5s", true, 1500},
                             {"", false, 0},        {"5x", false, 0},       {"-1s", false, 0}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    milliseconds d{};
    ASSERT_EQ(ParseDuration(c.text, &d), c.ok);
    if (c.ok) {
      EXPECT_EQ(d.count(), c.ms);
    }
  }
}

}  // namespace
}  // namespace stepline::controller
