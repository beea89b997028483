#pragma once

#include <string>
#include <string_view>

/// Text into HTML and XML (the HTML email body, SVG badges).
namespace railwatch::util {

/// `text` safe inside an HTML or XML element or a quoted attribute: `&` `<` `>` `"` `'` become
/// `&amp;` `&lt;` `&gt;` `&quot;` `&#39;`; every other byte is copied as it is (the caller is
/// responsible for UTF-8). Thread-safe.
std::string EscapeMarkup(std::string_view text);

}  // namespace railwatch::util
