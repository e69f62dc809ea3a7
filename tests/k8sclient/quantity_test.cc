#include "k8sclient/quantity.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace stepline::k8s {
namespace {

constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

TEST(QuantityTest, ParsesAndPrintsLikeTheApiServer) {
  struct Case {
    std::string input;
    std::string canonical;
    int64_t milli;
    int64_t value;
  };
  std::vector<Case> cases = {
      {"0", "0", 0, 0},
      {"100m", "100m", 100, 1},  // Value() rounds up
      {"1", "1", 1000, 1},
      {"0.5", "500m", 500, 1},
      {".5", "500m", 500, 1},
      {"1.", "1", 1000, 1},
      {"1.5", "1500m", 1500, 2},
      {"2000m", "2", 2000, 2},
      {"1000", "1k", 1'000'000, 1000},
      {"1500", "1500", 1'500'000, 1500},
      {"500M", "500M", 500'000'000'000, 500'000'000},
      {"1G", "1G", 1'000'000'000'000, 1'000'000'000},
      {"2Gi", "2Gi", 2'147'483'648'000, 2'147'483'648},
      {"1.5Gi", "1536Mi", 1'610'612'736'000, 1'610'612'736},
      {"1024Ki", "1Mi", 1'048'576'000, 1'048'576},
      {"16Gi", "16Gi", 17'179'869'184'000, 17'179'869'184},
      {"0.5Ki", "512", 512'000, 512},      // below 1024: printed as decimal SI
      {"1.5Ki", "1536", 1'536'000, 1536},  // not a multiple of 1024
      {"1e3", "1e3", 1'000'000, 1000},
      {"1E3", "1e3", 1'000'000, 1000},
      {"1.5e3", "1500", 1'500'000, 1500},
      {"100e-3", "100e-3", 100, 1},
      {"12e2", "1200", 1'200'000, 1200},
      {"1E", "1E", kMaxInt64, 1'000'000'000'000'000'000},  // milli saturates
      {"2k", "2k", 2'000'000, 2000},
      {"+3", "3", 3000, 3},
      {"-1.5", "-1500m", -1500, -1},
      {"-2Gi", "-2Gi", -2'147'483'648'000, -2'147'483'648},
      {"0.1m", "100u", 1, 1},  // finer than milli: kept, MilliValue() rounds up
      {"1n", "1n", 1, 1},
      {"0.0000000001", "1n", 1, 1},  // finer than nano: rounded up to 1n, as the API does
      {"007", "7", 7000, 7},
      {"0Mi", "0", 0, 0},
      {"8Ei", "9223372036854775807", kMaxInt64, kMaxInt64},  // binary SI capped at 2^63-1
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto q = Quantity::Parse(c.input);
    ASSERT_TRUE(q.ok()) << q.status().ToString();
    EXPECT_EQ(q->ToString(), c.canonical);
    EXPECT_EQ(q->MilliValue(), c.milli);
    EXPECT_EQ(q->Value(), c.value);
  }
}

TEST(QuantityTest, RejectsMalformedInput) {
  struct Case {
    std::string input;
    std::string message;
  };
  std::vector<Case> cases = {
      {"", "quantity \"\": empty"},
      {"1.5.3", "quantity \"1.5.3\": unknown suffix \".3\""},
      {"-", "quantity \"-\": expected a number"},
      {"+", "quantity \"+\": expected a number"},
      {".", "quantity \".\": expected a number"},
      {"--1", "quantity \"--1\": expected a number"},
      {"Gi", "quantity \"Gi\": expected a number"},
      {"1KB", "quantity \"1KB\": unknown suffix \"KB\""},
      {"1K", "quantity \"1K\": unknown suffix \"K\""},
      {"1gi", "quantity \"1gi\": unknown suffix \"gi\""},
      {"1e", "quantity \"1e\": unknown suffix \"e\""},
      {"1e+", "quantity \"1e+\": unknown suffix \"e+\""},
      {"1e3.5", "quantity \"1e3.5\": unknown suffix \"e3.5\""},
      {" 1", "quantity \" 1\": expected a number"},
      {"1 Gi", "quantity \"1 Gi\": unknown suffix \" Gi\""},
      {"1e19", "quantity \"1e19\": magnitude exceeds 2^63-1"},
      {"10E", "quantity \"10E\": magnitude exceeds 2^63-1"},
      {"1e99999999999", "quantity \"1e99999999999\": magnitude exceeds 2^63-1"},
      {std::string(200, '9'), "quantity of 200 characters is too long"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.input);
    auto q = Quantity::Parse(c.input);
    ASSERT_FALSE(q.ok());
    EXPECT_TRUE(q.status().IsInvalid());
    EXPECT_EQ(q.status().message(), c.message);
  }
}

TEST(QuantityTest, ExtremeExponentsStayExact) {
  auto tiny = Quantity::Parse("5e-99999");
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->ToString(), "1e-9");  // rounded up to the smallest unit, keeps exponent form
  auto zero = Quantity::Parse("0e99999");
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->IsZero());
}

Quantity Q(const std::string& text) { return Quantity::Parse(text).value(); }

TEST(QuantityTest, ComparesValuesAcrossFormats) {
  EXPECT_EQ(Q("1k"), Q("1000"));
  EXPECT_EQ(Q("1e3"), Q("1k"));
  EXPECT_EQ(Q("1Gi"), Q("1073741824"));
  EXPECT_LT(Q("100m"), Q("1"));
  EXPECT_GT(Q("1Gi"), Q("1G"));
  EXPECT_LT(Q("-1"), Q("0"));
  EXPECT_EQ(Q("0.5"), Q("500m"));
  EXPECT_EQ(Q("-1").Sign(), -1);
  EXPECT_EQ(Q("0").Sign(), 0);
}

TEST(QuantityTest, AddAndSubtractKeepTheFormat) {
  auto sum = Q("1Gi").Add(Q("512Mi"));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->ToString(), "1536Mi");
  auto cpu = Q("250m").Add(Q("750m"));
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(cpu->ToString(), "1");
  auto from_zero = Quantity().Add(Q("2Gi"));
  ASSERT_TRUE(from_zero.ok());
  EXPECT_EQ(from_zero->ToString(), "2Gi");
  auto diff = Q("1").Subtract(Q("1500m"));
  ASSERT_TRUE(diff.ok());
  EXPECT_EQ(diff->ToString(), "-500m");
  EXPECT_EQ(diff->MilliValue(), -500);
  EXPECT_EQ(diff->Value(), 0);  // ceil(-0.5)
}

TEST(QuantityTest, AddDetectsOverflow) {
  auto big = Q("8E");
  auto sum = big.Add(big);
  ASSERT_FALSE(sum.ok());
  EXPECT_EQ(sum.status().message(), "quantity out of range: magnitude exceeds 2^63-1");
  auto diff = Q("-8E").Subtract(big);
  EXPECT_FALSE(diff.ok());
}

TEST(QuantityTest, Constructors) {
  EXPECT_EQ(Quantity::FromMilli(1500).ToString(), "1500m");
  EXPECT_EQ(Quantity::FromValue(2048, Quantity::Format::kBinarySI).ToString(), "2Ki");
  EXPECT_EQ(Quantity::FromValue(2048).ToString(), "2048");
  EXPECT_EQ(Quantity().ToString(), "0");
}

}  // namespace
}  // namespace stepline::k8s
