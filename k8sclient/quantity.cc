#include "k8sclient/quantity.h"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <utility>

namespace stepline::k8s {
namespace {

__extension__ typedef __int128 Nano;  // NOLINT(modernize-use-using)

constexpr int64_t kNanoPerUnit = 1'000'000'000;
constexpr Nano kMaxNano = Nano{std::numeric_limits<int64_t>::max()} * kNanoPerUnit;
// Longer inputs are not quantities anyone writes; the bound keeps parsing cheap on hostile input.
constexpr size_t kMaxQuantityLength = 128;

struct NumberParts {
  bool negative = false;
  std::string_view integer;   // digits before the '.'
  std::string_view fraction;  // digits after the '.'
  std::string_view suffix;    // everything after the number
};

struct Suffix {
  int base = 10;     // 10 or 2
  int exponent = 0;  // power of the base
  Quantity::Format format = Quantity::Format::kDecimalSI;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

std::string_view TakeDigits(std::string_view text, size_t* pos) {
  size_t start = *pos;
  while (*pos < text.size() && IsDigit(text[*pos])) ++*pos;
  return text.substr(start, *pos - start);
}

Status Malformed(std::string_view text, std::string_view why) {
  return Status::Invalid("quantity \"" + std::string(text) + "\": " + std::string(why));
}

Result<NumberParts> SplitNumber(std::string_view text) {
  if (text.empty()) return Malformed(text, "empty");
  if (text.size() > kMaxQuantityLength) {
    return Status::Invalid("quantity of " + std::to_string(text.size()) +
                           " characters is too long");
  }
  NumberParts parts;
  size_t pos = 0;
  if (text[0] == '+' || text[0] == '-') {
    parts.negative = text[0] == '-';
    pos = 1;
  }
  parts.integer = TakeDigits(text, &pos);
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    parts.fraction = TakeDigits(text, &pos);
  }
  if (parts.integer.empty() && parts.fraction.empty()) {
    return Malformed(text, "expected a number");
  }
  parts.suffix = text.substr(pos);
  return parts;
}

// "e3", "E-2", "e+4": the exponent, saturated far beyond any representable value.
std::optional<int> ParseExponent(std::string_view digits) {
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return std::nullopt;
  int value = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return std::nullopt;
    value = std::min(value * 10 + (c - '0'), 100'000);
  }
  return negative ? -value : value;
}

std::optional<Suffix> ParseSuffix(std::string_view s) {
  using F = Quantity::Format;
  static constexpr std::array<std::pair<std::string_view, int>, 10> kDecimal = {{{"n", -9},
                                                                                 {"u", -6},
                                                                                 {"m", -3},
                                                                                 {"", 0},
                                                                                 {"k", 3},
                                                                                 {"M", 6},
                                                                                 {"G", 9},
                                                                                 {"T", 12},
                                                                                 {"P", 15},
                                                                                 {"E", 18}}};
  static constexpr std::array<std::string_view, 6> kBinary = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  for (const auto& [name, exponent] : kDecimal) {
    if (s == name) return Suffix{10, exponent, F::kDecimalSI};
  }
  for (size_t i = 0; i < kBinary.size(); ++i) {
    if (s == kBinary[i]) return Suffix{2, static_cast<int>(10 * (i + 1)), F::kBinarySI};
  }
  if (s.size() >= 2 && (s[0] == 'e' || s[0] == 'E')) {
    if (auto exponent = ParseExponent(s.substr(1)))
      return Suffix{10, *exponent, F::kDecimalExponent};
  }
  return std::nullopt;
}

// Multiplies a decimal digit string by 2^times in place.
void MultiplyByPowerOfTwo(std::string* digits, int times) {
  for (int t = 0; t < times; ++t) {
    int carry = 0;
    for (auto it = digits->rbegin(); it != digits->rend(); ++it) {
      int d = (*it - '0') * 2 + carry;
      *it = static_cast<char>('0' + d % 10);
      carry = d / 10;
    }
    if (carry > 0) digits->insert(digits->begin(), static_cast<char>('0' + carry));
  }
}

// digits * 10^shift, rounded up to a whole number; nullopt when it exceeds kMaxNano.
// `digits` has no leading zeros and is not empty.
std::optional<Nano> ScaleDigits(std::string_view digits, long shift) {
  bool round_up = false;
  if (shift < 0) {
    size_t drop = std::min(digits.size(), static_cast<size_t>(-shift));
    round_up = digits.find_first_not_of('0', digits.size() - drop) != std::string_view::npos;
    digits.remove_suffix(drop);
    shift = 0;
  }
  if (digits.size() + static_cast<size_t>(shift) > 30) return std::nullopt;
  Nano value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  for (long i = 0; i < shift; ++i) value *= 10;
  value += round_up ? 1 : 0;
  if (value > kMaxNano) return std::nullopt;
  return value;
}

// The magnitude in nano-units, or nullopt when it is too large to hold.
std::optional<Nano> MagnitudeInNano(const NumberParts& parts, const Suffix& suffix) {
  std::string digits = std::string(parts.integer) + std::string(parts.fraction);
  long shift = 9 - static_cast<long>(parts.fraction.size());
  if (suffix.base == 10) {
    shift += suffix.exponent;
  } else {
    MultiplyByPowerOfTwo(&digits, suffix.exponent);
  }
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return Nano{0};
  return ScaleDigits(std::string_view(digits).substr(first), shift);
}

Nano CeilDiv(Nano n, Nano d) {
  Nano q = n / d;
  return (n % d != 0 && n > 0) ? q + 1 : q;
}

int64_t Saturate(Nano n) {
  constexpr Nano kMax = std::numeric_limits<int64_t>::max();
  constexpr Nano kMin = std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(std::clamp(n, kMin, kMax));
}

Nano Abs(Nano n) { return n < 0 ? -n : n; }

std::string IntegerToString(Nano n) {
  if (n == 0) return "0";
  std::string out;
  for (Nano m = Abs(n); m > 0; m /= 10) out.push_back(static_cast<char>('0' + m % 10));
  if (n < 0) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

// The largest power-of-ten exponent, a multiple of 3, that keeps the mantissa whole.
std::string DecimalString(Nano nano, Quantity::Format format) {
  Nano mantissa = nano;
  int exponent = -9;
  while (mantissa % 10 == 0) {
    mantissa /= 10;
    ++exponent;
  }
  while (exponent % 3 != 0) {  // step down (the mantissa grows) to a multiple of 3
    mantissa *= 10;
    --exponent;
  }
  std::string number = IntegerToString(mantissa);
  if (format == Quantity::Format::kDecimalExponent) {
    return exponent == 0 ? number : number + "e" + std::to_string(exponent);
  }
  static constexpr std::array<std::string_view, 10> kSuffixes = {"n", "u", "m", "",  "k",
                                                                 "M", "G", "T", "P", "E"};
  return number + std::string(kSuffixes[static_cast<size_t>((exponent + 9) / 3)]);
}

std::string BinaryString(Nano units) {
  static constexpr std::array<std::string_view, 7> kSuffixes = {"",   "Ki", "Mi", "Gi",
                                                                "Ti", "Pi", "Ei"};
  size_t power = 0;
  while (power + 1 < kSuffixes.size() && Abs(units) >= 1024 && units % 1024 == 0) {
    units /= 1024;
    ++power;
  }
  return IntegerToString(units) + std::string(kSuffixes[power]);
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  auto parts = SplitNumber(text);
  if (!parts.ok()) return parts.status();
  auto suffix = ParseSuffix(parts->suffix);
  if (!suffix) return Malformed(text, "unknown suffix \"" + std::string(parts->suffix) + "\"");
  std::optional<Nano> magnitude = MagnitudeInNano(*parts, *suffix);
  if (!magnitude && suffix->format == Format::kBinarySI) magnitude = kMaxNano;  // the API's cap
  if (!magnitude) return Malformed(text, "magnitude exceeds 2^63-1");
  return Quantity(parts->negative ? -*magnitude : *magnitude, suffix->format);
}

Quantity Quantity::FromMilli(int64_t milli_units, Format format) {
  return Quantity(Nano{milli_units} * 1'000'000, format);
}

Quantity Quantity::FromValue(int64_t units, Format format) {
  return Quantity(Nano{units} * kNanoPerUnit, format);
}

int64_t Quantity::MilliValue() const { return Saturate(CeilDiv(nano_, 1'000'000)); }

int64_t Quantity::Value() const { return Saturate(CeilDiv(nano_, kNanoPerUnit)); }

Result<Quantity> Quantity::Checked(Nano nano, Format format) {
  if (Abs(nano) > kMaxNano)
    return Status::Invalid("quantity out of range: magnitude exceeds 2^63-1");
  return Quantity(nano, format);
}

Result<Quantity> Quantity::Add(const Quantity& other) const {
  return Checked(nano_ + other.nano_, IsZero() ? other.format_ : format_);
}

Result<Quantity> Quantity::Subtract(const Quantity& other) const {
  return Checked(nano_ - other.nano_, IsZero() ? other.format_ : format_);
}

std::string Quantity::ToString() const {
  if (nano_ == 0) return "0";
  if (format_ == Format::kBinarySI && Abs(nano_) >= Nano{1024} * kNanoPerUnit &&
      nano_ % kNanoPerUnit == 0) {
    return BinaryString(nano_ / kNanoPerUnit);
  }
  return DecimalString(nano_, format_ == Format::kBinarySI ? Format::kDecimalSI : format_);
}

}  // namespace stepline::k8s
