#include "reconcilers/expression.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "reconcilers/status_bounds.h"

namespace stepline::reconcilers {

struct ExpressionNode {
  enum class Kind { kLiteral, kBool, kReference, kNot, kAnd, kOr, kCompare, kIn };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe };  // kCompare
  Kind kind = Kind::kLiteral;
  Op op = Op::kEq;
  std::string text;    // kLiteral
  bool truth = false;  // kBool
  Reference ref;       // kReference
  std::vector<ExpressionNode> children;
  size_t column = 0;
};

namespace {

using k8s::Result;
using k8s::Status;
using Node = ExpressionNode;
using Kind = ExpressionNode::Kind;
using CompareOp = ExpressionNode::Op;

Status SyntaxError(const std::string& what, size_t column) {
  return Status::Invalid("when: " + what + " at column " + std::to_string(column));
}

// ---------------------------------------------------------------------------------------------
// Tokens

enum class Tok {
  kEnd,
  kLiteral,
  kBool,
  kIn,
  kRef,
  kCompare,
  kAnd,
  kOr,
  kNot,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t column = 0;
  std::string text;  // kLiteral; "true"/"false" for kBool
  CompareOp op = CompareOp::kEq;
  Reference ref;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '+' || c == '/' || c == ':';
}

// 'text' or "text"; a backslash escapes the quote or another backslash.
Result<Token> LexQuoted(std::string_view s, size_t* pos) {
  Token token{Tok::kLiteral, *pos + 1};
  char quote = s[*pos];
  for (size_t i = *pos + 1; i < s.size(); ++i) {
    if (s[i] == quote) {
      *pos = i + 1;
      return token;
    }
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == quote || s[i + 1] == '\\')) ++i;
    token.text.push_back(s[i]);
  }
  return SyntaxError("unterminated string", token.column);
}

Result<Token> LexReference(std::string_view s, size_t* pos) {
  size_t column = *pos + 1;
  size_t close = s.find("}}", *pos + 2);
  if (close == std::string_view::npos) return SyntaxError("unterminated \"{{\"", column);
  auto ref = ParseReference(s.substr(*pos + 2, close - *pos - 2), column);
  if (!ref.ok()) return Status::Invalid("when: " + ref.status().message());
  *pos = close + 2;
  return Token{Tok::kRef, column, "", CompareOp::kEq, std::move(ref).value()};
}

Token LexWord(std::string_view s, size_t* pos) {
  size_t start = *pos;
  while (*pos < s.size() && IsWordChar(s[*pos])) ++*pos;
  std::string word(s.substr(start, *pos - start));
  Tok kind = Tok::kLiteral;
  if (word == "true" || word == "false") kind = Tok::kBool;
  if (word == "in") kind = Tok::kIn;
  return Token{kind, start + 1, std::move(word)};
}

// Operators and punctuation; nullopt when s[pos] starts none.
std::optional<Token> LexOperator(std::string_view s, size_t* pos) {
  struct Spelling {
    std::string_view text;
    Tok kind;
    CompareOp op;
  };
  static constexpr Spelling kOperators[] = {
      {"==", Tok::kCompare, CompareOp::kEq},
      {"!=", Tok::kCompare, CompareOp::kNe},
      {"<=", Tok::kCompare, CompareOp::kLe},
      {">=", Tok::kCompare, CompareOp::kGe},
      {"&&", Tok::kAnd, {}},
      {"||", Tok::kOr, {}},
      {"<", Tok::kCompare, CompareOp::kLt},
      {">", Tok::kCompare, CompareOp::kGt},
      {"!", Tok::kNot, {}},
      {"(", Tok::kLParen, {}},
      {")", Tok::kRParen, {}},
      {"[", Tok::kLBracket, {}},
      {"]", Tok::kRBracket, {}},
      {",", Tok::kComma, {}},
  };
  for (const Spelling& o : kOperators) {
    if (s.substr(*pos, o.text.size()) == o.text) {
      Token token{o.kind, *pos + 1, "", o.op};
      *pos += o.text.size();
      return token;
    }
  }
  return std::nullopt;
}

Status UnexpectedCharacter(char c, size_t column) {
  if (c == '=') return SyntaxError("expected '=='", column);
  if (c == '&') return SyntaxError("expected '&&'", column);
  if (c == '|') return SyntaxError("expected '||'", column);
  if (c == '{') return SyntaxError("expected '{{'", column);
  return SyntaxError("unexpected character '" + std::string(1, c) + "'", column);
}

Result<std::vector<Token>> Lex(std::string_view s) {
  std::vector<Token> tokens;
  size_t pos = 0;
  while (true) {
    while (pos < s.size() && IsSpace(s[pos])) ++pos;
    if (pos == s.size()) break;
    char c = s[pos];
    if (c == '\'' || c == '"' || s.substr(pos, 2) == "{{") {
      auto token = (c == '{') ? LexReference(s, &pos) : LexQuoted(s, &pos);
      if (!token.ok()) return token.status();
      tokens.push_back(std::move(token).value());
    } else if (IsWordChar(c)) {
      tokens.push_back(LexWord(s, &pos));
    } else if (auto op = LexOperator(s, &pos)) {
      tokens.push_back(*std::move(op));
    } else {
      return UnexpectedCharacter(c, pos + 1);
    }
  }
  tokens.push_back(Token{Tok::kEnd, s.size() + 1});
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Parser: recursive descent, with the depth of '(' and '!' bounded by kMaxConditionDepth.

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Result<Node> ParseAll() {
    auto root = ParseOr(0);
    if (root.ok() && Peek().kind != Tok::kEnd) {
      return SyntaxError("expected '&&', '||' or the end", Peek().column);
    }
    return root;
  }
  std::vector<Reference> TakeReferences() { return std::move(references_); }

 private:
  const Token& Peek() const { return tokens_[pos_]; }
  Token& Take() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  // or := and ('||' and)*   and := comparison ('&&' comparison)*
  Result<Node> ParseOr(int depth) { return ParseChain(Tok::kOr, Kind::kOr, depth); }
  Result<Node> ParseChain(Tok separator, Kind kind, int depth) {
    Node chain{kind};
    chain.column = Peek().column;
    while (true) {
      auto operand =
          separator == Tok::kOr ? ParseChain(Tok::kAnd, Kind::kAnd, depth) : ParseComparison(depth);
      if (!operand.ok()) return operand;
      chain.children.push_back(std::move(operand).value());
      if (Peek().kind != separator) break;
      Take();
    }
    if (chain.children.size() == 1) return std::move(chain.children.front());
    return chain;
  }

  Result<Node> ParseComparison(int depth) {
    auto left = ParseUnary(depth);
    if (!left.ok()) return left;
    if (Peek().kind == Tok::kIn) return ParseList(std::move(left).value(), depth);
    if (Peek().kind != Tok::kCompare) return left;
    Node compare{Kind::kCompare};
    compare.column = Peek().column;
    compare.op = Take().op;
    auto right = ParseUnary(depth);
    if (!right.ok()) return right;
    compare.children.push_back(std::move(left).value());
    compare.children.push_back(std::move(right).value());
    return compare;
  }

  // 'in' '[' (unary (',' unary)*)? ']'
  Result<Node> ParseList(Node left, int depth) {
    Node in{Kind::kIn};
    in.column = Take().column;
    in.children.push_back(std::move(left));
    if (Peek().kind != Tok::kLBracket) return SyntaxError("expected '[' after 'in'", Peek().column);
    Take();
    while (Peek().kind != Tok::kRBracket) {
      if (in.children.size() > 1) {
        if (Peek().kind != Tok::kComma) return SyntaxError("expected ',' or ']'", Peek().column);
        Take();
      }
      auto element = ParseUnary(depth);
      if (!element.ok()) return element;
      in.children.push_back(std::move(element).value());
    }
    Take();
    return in;
  }

  Result<Node> ParseUnary(int depth) {
    if (depth >= kMaxConditionDepth) {
      return SyntaxError("nested more than " + std::to_string(kMaxConditionDepth) + " deep",
                         Peek().column);
    }
    if (Peek().kind != Tok::kNot) return ParseOperand(depth);
    Node negation{Kind::kNot};
    negation.column = Take().column;
    auto operand = ParseUnary(depth + 1);
    if (!operand.ok()) return operand;
    negation.children.push_back(std::move(operand).value());
    return negation;
  }

  Result<Node> ParseOperand(int depth) {
    Token& token = Take();
    Node node;
    node.column = token.column;
    switch (token.kind) {
      case Tok::kLiteral:
        node.text = std::move(token.text);
        return node;
      case Tok::kBool:
        node.kind = Kind::kBool;
        node.truth = token.text == "true";
        return node;
      case Tok::kRef:
        node.kind = Kind::kReference;
        node.ref = token.ref;
        references_.push_back(std::move(token.ref));
        return node;
      case Tok::kLParen:
        return ParseParenthesized(depth);
      default:
        return SyntaxError("expected a value", token.column);
    }
  }

  Result<Node> ParseParenthesized(int depth) {
    auto inner = ParseOr(depth + 1);
    if (!inner.ok()) return inner;
    if (Peek().kind != Tok::kRParen) return SyntaxError("expected ')'", Peek().column);
    Take();
    return inner;
  }

  std::vector<Token> tokens_;  // ends with a kEnd token
  size_t pos_ = 0;
  std::vector<Reference> references_;
};

// ---------------------------------------------------------------------------------------------
// Values

struct Value {
  std::string text;
  bool is_bool = false;  // a `true`/`false` literal or the result of an operator
  bool truth = false;    // when is_bool
};

Value BoolValue(bool truth) { return Value{truth ? "true" : "false", true, truth}; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

std::optional<bool> TruthOf(const Value& v) {
  if (v.is_bool) return v.truth;
  if (EqualsIgnoringCase(v.text, "true")) return true;
  if (EqualsIgnoringCase(v.text, "false")) return false;
  return std::nullopt;
}

// A decimal number as 0.DIGITS x 10^exponent; DIGITS has no leading or trailing zeros and is
// empty for zero.
struct Decimal {
  bool negative = false;
  std::string digits;
  long exponent = 0;
};

std::string_view TakeDigits(std::string_view s, size_t* pos) {
  size_t start = *pos;
  while (*pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') ++*pos;
  return s.substr(start, *pos - start);
}

// Saturates: exponents beyond +-10^9 compare the same as any larger ones.
std::optional<long> ParseExponentPart(std::string_view s, size_t* pos) {
  if (*pos == s.size()) return 0;
  if (s[*pos] != 'e' && s[*pos] != 'E') return std::nullopt;
  ++*pos;
  bool negative = *pos < s.size() && s[*pos] == '-';
  if (*pos < s.size() && (s[*pos] == '-' || s[*pos] == '+')) ++*pos;
  std::string_view digits = TakeDigits(s, pos);
  if (digits.empty() || *pos != s.size()) return std::nullopt;
  long value = 0;
  for (char c : digits) value = std::min(value * 10 + (c - '0'), 1'000'000'000L);
  return negative ? -value : value;
}

// [+-] (digits [. digits] | . digits) [e [+-] digits], surrounding whitespace allowed.
std::optional<Decimal> ParseDecimal(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  Decimal d;
  size_t pos = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) d.negative = s[pos++] == '-';
  std::string_view integer = TakeDigits(s, &pos);
  std::string_view fraction;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    fraction = TakeDigits(s, &pos);
  }
  if (integer.empty() && fraction.empty()) return std::nullopt;
  std::optional<long> exponent = ParseExponentPart(s, &pos);
  if (!exponent) return std::nullopt;
  d.digits = std::string(integer) + std::string(fraction);
  d.exponent = *exponent + static_cast<long>(integer.size());
  size_t first = d.digits.find_first_not_of('0');
  if (first == std::string::npos) return Decimal{};  // zero, whatever its sign
  d.exponent -= static_cast<long>(first);
  d.digits = d.digits.substr(first, d.digits.find_last_not_of('0') + 1 - first);
  return d;
}

int CompareDecimals(const Decimal& a, const Decimal& b) {
  auto sign = [](const Decimal& d) { return d.digits.empty() ? 0 : (d.negative ? -1 : 1); };
  if (sign(a) != sign(b)) return sign(a) < sign(b) ? -1 : 1;
  if (sign(a) == 0) return 0;
  int magnitude = 0;
  if (a.exponent != b.exponent) {
    magnitude = a.exponent < b.exponent ? -1 : 1;
  } else {
    int c = a.digits.compare(b.digits);
    magnitude = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return a.negative ? -magnitude : magnitude;
}

// <0, 0 or >0: numerically when both sides are numbers, else byte-wise.
int CompareValues(const Value& a, const Value& b) {
  std::optional<Decimal> x = ParseDecimal(a.text);
  std::optional<Decimal> y = x ? ParseDecimal(b.text) : std::nullopt;
  if (x && y) return CompareDecimals(*x, *y);
  return a.text.compare(b.text);
}

bool AreEqual(const Value& a, const Value& b) {
  if (a.is_bool || b.is_bool) {
    std::optional<bool> x = TruthOf(a);
    std::optional<bool> y = TruthOf(b);
    if (x && y) return *x == *y;
  }
  return CompareValues(a, b) == 0;
}

bool Compare(const Value& a, const Value& b, CompareOp op) {
  if (op == CompareOp::kEq) return AreEqual(a, b);
  if (op == CompareOp::kNe) return !AreEqual(a, b);
  int order = CompareValues(a, b);
  if (op == CompareOp::kLt) return order < 0;
  if (op == CompareOp::kLe) return order <= 0;
  if (op == CompareOp::kGt) return order > 0;
  return order >= 0;
}

// ---------------------------------------------------------------------------------------------
// Evaluation: recursion follows the tree, whose depth the parser bounded.

Result<bool> EvalBool(const Node& node, const TemplateContext& context);

Result<Value> EvalValue(const Node& node, const TemplateContext& context) {
  switch (node.kind) {
    case Kind::kLiteral:
      return Value{node.text};
    case Kind::kBool:
      return BoolValue(node.truth);
    case Kind::kReference: {
      auto value = ResolveReference(node.ref, context);
      if (!value.ok()) {
        return Status(value.status().code(), "when: " + value.status().message());
      }
      return Value{std::move(value).value()};
    }
    default: {
      auto truth = EvalBool(node, context);
      if (!truth.ok()) return truth.status();
      return BoolValue(*truth);
    }
  }
}

std::string Excerpt(const std::string& text) {
  return text.size() <= 64 ? text : BoundText(text, 64);
}

Result<bool> TruthOfOperand(const Node& node, const TemplateContext& context) {
  auto value = EvalValue(node, context);
  if (!value.ok()) return value.status();
  if (std::optional<bool> truth = TruthOf(*value)) return *truth;
  std::string where = " at column " + std::to_string(node.column);
  std::string quoted = "\"" + Excerpt(value->text) + "\"";
  if (node.kind == Kind::kReference) {
    return Status::Invalid("when: " + node.ref.ToString() + where + " is " + quoted +
                           ", not true or false");
  }
  return Status::Invalid("when: " + quoted + where + " is not true or false");
}

Result<bool> EvalIn(const Node& node, const TemplateContext& context) {
  auto left = EvalValue(node.children[0], context);
  if (!left.ok()) return left.status();
  for (size_t i = 1; i < node.children.size(); ++i) {
    auto element = EvalValue(node.children[i], context);
    if (!element.ok()) return element.status();
    if (AreEqual(*left, *element)) return true;
  }
  return false;
}

Result<bool> EvalCompare(const Node& node, const TemplateContext& context) {
  auto left = EvalValue(node.children[0], context);
  if (!left.ok()) return left.status();
  auto right = EvalValue(node.children[1], context);
  if (!right.ok()) return right.status();
  return Compare(*left, *right, node.op);
}

// && and ||, short-circuiting: stops at the first operand that decides the result.
Result<bool> EvalChain(const Node& node, const TemplateContext& context) {
  bool deciding = node.kind == Kind::kOr;  // true decides ||, false decides &&
  for (const Node& child : node.children) {
    auto truth = TruthOfOperand(child, context);
    if (!truth.ok()) return truth;
    if (*truth == deciding) return deciding;
  }
  return !deciding;
}

Result<bool> EvalBool(const Node& node, const TemplateContext& context) {
  switch (node.kind) {
    case Kind::kNot: {
      auto truth = TruthOfOperand(node.children[0], context);
      if (!truth.ok()) return truth;
      return !*truth;
    }
    case Kind::kAnd:
    case Kind::kOr:
      return EvalChain(node, context);
    case Kind::kCompare:
      return EvalCompare(node, context);
    case Kind::kIn:
      return EvalIn(node, context);
    default:
      return TruthOfOperand(node, context);
  }
}

}  // namespace

Result<Expression> ParseExpression(std::string_view text) {
  if (text.size() > kMaxConditionBytes) {
    return Status::Invalid("when: condition of " + std::to_string(text.size()) + " bytes exceeds " +
                           std::to_string(kMaxConditionBytes));
  }
  auto tokens = Lex(text);
  if (!tokens.ok()) return tokens.status();
  Parser parser(std::move(tokens).value());
  auto root = parser.ParseAll();
  if (!root.ok()) return root.status();
  Expression expr;
  expr.text_ = std::string(text);
  expr.root_ = std::make_shared<const Node>(std::move(root).value());
  expr.references_ = parser.TakeReferences();
  return expr;
}

Result<bool> Evaluate(const Expression& expr, const TemplateContext& context) {
  if (!expr.root_) return Status::InvalidArgument("when: evaluating an unparsed condition");
  return EvalBool(*expr.root_, context);
}

}  // namespace stepline::reconcilers
