// `when` conditions: the small expression language of DESIGN.md section 2 ("Conditions").
//
//   condition  := or
//   or         := and ('||' and)*
//   and        := comparison ('&&' comparison)*
//   comparison := unary (('==' | '!=' | '<' | '<=' | '>' | '>=') unary | 'in' list)?
//   unary      := '!' unary | operand
//   operand    := {{reference}} | 'string' | "string" | word | true | false | '(' condition ')'
//   list       := '[' (unary (',' unary)*)? ']'
//
// Decisions:
// - Every value is text. A reference is resolved to its value (as by Render in template.h) and
//   used as one operand; it is never spliced into the condition's text, so an output whose value
//   is `1 || true` is compared as that string and cannot inject operators.
// - A bare word (letters, digits and _ . - + / :), such as `Succeeded`, `1w` or `0.8`, is a
//   string literal, just as if it were quoted; `true`, `false` and `in` are keywords.
// - Comparison is numeric when both sides parse as decimal numbers ("10" > "9", "1.0" == "1",
//   exact, no floating point; quoting does not change this), else byte-wise lexicographic
//   ("b" > "a"). `in` is true when the left side == some element.
// - `!` binds tighter than comparisons (as in C, Go, CEL): `!a == b` is `(!a) == b`.
//   `&&` binds tighter than `||`; both short-circuit, so `{{steps.a.phase}} == Succeeded &&
//   {{steps.a.outputs.x}} > 3` does not need the output when the step did not succeed.
// - Where a boolean is needed (`&&`, `||`, `!`, the whole condition) a value must be "true" or
//   "false", in any case; anything else is an error. `==` with a boolean side compares truth
//   values, so `{{x}} == true` holds for "True".
// - Parse errors name the column: `when: expected ')' at column 17`. Nesting deeper than
//   kMaxConditionDepth and conditions longer than kMaxConditionBytes are errors, never a crash.
//
// A parsed Expression is immutable and may be shared and evaluated from several threads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "k8sclient/status.h"
#include "reconcilers/template.h"

namespace stepline::reconcilers {

inline constexpr int kMaxConditionDepth = 64;
inline constexpr size_t kMaxConditionBytes = size_t{16} * 1024;

struct ExpressionNode;  // the syntax tree; private to expression.cc

class Expression {
 public:
  // Every reference, in order of appearance, for validation.
  const std::vector<Reference>& References() const { return references_; }
  const std::string& text() const { return text_; }

 private:
  friend k8s::Result<Expression> ParseExpression(std::string_view text);
  friend k8s::Result<bool> Evaluate(const Expression& expr, const TemplateContext& context);

  std::string text_;
  std::shared_ptr<const ExpressionNode> root_;
  std::vector<Reference> references_;
};

// Errors are Invalid and start with "when: ".
k8s::Result<Expression> ParseExpression(std::string_view text);

// Errors start with "when: ": an unresolvable reference (NotFound, naming it) or a value that is
// not a boolean where one is needed (Invalid).
k8s::Result<bool> Evaluate(const Expression& expr, const TemplateContext& context);

}  // namespace stepline::reconcilers
