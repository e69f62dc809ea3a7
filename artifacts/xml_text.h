// Reading the few values Stepline needs from S3 and STS XML answers (error codes and messages,
// upload ids, listed keys, temporary credentials) without an XML library: elements are found by
// name, their text unescaped. Enough for these flat, well-known documents; not a parser.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stepline::artifacts {

// The unescaped text of the first <name>...</name> in xml, or "" when there is none.
std::string XmlText(std::string_view xml, std::string_view name);

// The raw inner XML of every <name>...</name> in xml, in order.
std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name);

}  // namespace stepline::artifacts
