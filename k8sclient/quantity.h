// Quantity: a Kubernetes resource quantity ("100m", "2Gi", "1.5Gi", "500M", "1e3"), parsed and
// printed as the API server does (k8s.io/apimachinery/pkg/api/resource).
//
// Grammar (the API's):  <sign>? <number> <suffix>
//   <number>  ::= <digits> | <digits>.<digits> | <digits>. | .<digits>
//   <suffix>  ::= "" | n | u | m | k | M | G | T | P | E          (decimal SI)
//               | Ki | Mi | Gi | Ti | Pi | Ei                    (binary SI)
//               | e<signed integer> | E<signed integer>          (decimal exponent)
//
// The value is exact: a signed count of nano-units (10^-9) held in 128 bits, never a float.
// As in the API, a non-zero value finer than 1n is rounded up (away from zero) to 1n, and a
// binary-SI value larger than 2^63-1 is capped at 2^63-1. Unlike the API, a decimal value whose
// magnitude exceeds 2^63-1 is rejected rather than kept in arbitrary precision.
//
// The suffix family (decimal SI, binary SI, exponent) is remembered and used by ToString(), which
// prints the API's canonical form: "1.5" -> "1500m", "1.5Gi" -> "1536Mi", "1000" -> "1k".
// Quantity is a small immutable value type, safe to share between threads.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "k8sclient/status.h"

namespace stepline::k8s {

class Quantity {
 public:
  enum class Format { kDecimalSI, kBinarySI, kDecimalExponent };

  Quantity() = default;  // "0"

  // Parses a quantity; errors (kInvalid) name the input and what is wrong with it.
  static Result<Quantity> Parse(std::string_view text);
  static Quantity FromMilli(int64_t milli_units, Format format = Format::kDecimalSI);
  static Quantity FromValue(int64_t units, Format format = Format::kDecimalSI);

  // ceil(value * 1000) and ceil(value), as the API's MilliValue() and Value() (they round up).
  // MilliValue() saturates at the int64 limits for values beyond about 9.2e15 units.
  int64_t MilliValue() const;
  int64_t Value() const;
  int Sign() const { return nano_ < 0 ? -1 : (nano_ > 0 ? 1 : 0); }
  bool IsZero() const { return nano_ == 0; }
  Format format() const { return format_; }

  // Sum and difference; an error when the result's magnitude would exceed 2^63-1 units. The
  // result keeps this quantity's format, or takes the other's when this one is zero (as the API).
  Result<Quantity> Add(const Quantity& other) const;
  Result<Quantity> Subtract(const Quantity& other) const;

  // Canonical form: "0", "100m", "1536Mi", "1k", "1e3", "-2Gi".
  std::string ToString() const;

  // Compares values only: "1k" == "1000" == "1e3".
  bool operator==(const Quantity& other) const { return nano_ == other.nano_; }
  std::strong_ordering operator<=>(const Quantity& other) const { return nano_ <=> other.nano_; }

 private:
  __extension__ typedef __int128 Nano;  // NOLINT(modernize-use-using)

  Quantity(Nano nano, Format format) : nano_(nano), format_(format) {}
  static Result<Quantity> Checked(Nano nano, Format format);

  Nano nano_ = 0;
  Format format_ = Format::kDecimalSI;
};

}  // namespace stepline::k8s
