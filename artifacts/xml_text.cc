#include "artifacts/xml_text.h"

namespace stepline::artifacts {

namespace {

std::string Unescape(std::string_view text) {
  static const struct {
    std::string_view entity;
    char value;
  } kEntities[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& e : kEntities) {
        if (text.substr(i, e.entity.size()) == e.entity) {
          out.push_back(e.value);
          i += e.entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

// Finds the next <name> or <name ...> opening tag at or after pos; npos when none.
size_t FindOpen(std::string_view xml, std::string_view name, size_t pos, size_t* content) {
  std::string open = "<" + std::string(name);
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    size_t after = pos + open.size();
    if (after < xml.size() && (xml[after] == '>' || xml[after] == ' ')) {
      size_t close = xml.find('>', after);
      if (close == std::string_view::npos) return std::string_view::npos;
      *content = close + 1;
      return pos;
    }
    pos = after;
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<std::string_view> XmlElements(std::string_view xml, std::string_view name) {
  std::vector<std::string_view> out;
  std::string close = "</" + std::string(name) + ">";
  size_t pos = 0;
  size_t content = 0;
  while (FindOpen(xml, name, pos, &content) != std::string_view::npos) {
    size_t end = xml.find(close, content);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(content, end - content));
    pos = end + close.size();
  }
  return out;
}

std::string XmlText(std::string_view xml, std::string_view name) {
  auto elements = XmlElements(xml, name);
  return elements.empty() ? std::string() : Unescape(elements.front());
}

}  // namespace stepline::artifacts
