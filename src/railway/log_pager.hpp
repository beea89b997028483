#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "railway/api_error.hpp"
#include "railway/types.hpp"

/// Incremental log fetching over Railway's `deploymentLogs` / `buildLogs` (limit, startDate,
/// endDate), correct whichever way Railway cuts a full page.
///
/// Railway does not document which lines a page holds when more than `limit` match: the oldest
/// after startDate ("head") or the newest ("tail"; the CLI's comment says the API returns
/// limit + 1 lines and it keeps the last N). FetchNewLogLines assumes only that a page is one of
/// the two, that startDate and endDate are inclusive and that timestamps order lines:
/// - a page that is not full holds every line of its window;
/// - a full page whose oldest line is not newer than the window's start continues the lines
///   already known (head), and the next page starts at its newest line;
/// - a full page whose oldest line is newer than the start may leave a gap (tail): the gap is
///   filled with windows [start, endDate]: a full one walks the lines known back by a page, and
///   the next window from the start is cut to about half a page's worth of time (measured on the
///   page just read), growing again while windows come back not full, until one reaching the
///   lines known is not full;
/// - the cursor moves only past lines returned, and the lines returned are every line from the
///   cursor up to the newest one returned (never a gap), oldest first.
/// Pure apart from `fetch`; not thread-safe (one call at a time per cursor).
namespace railwatch::railway {

/// A point of a log window: a time and the text sent for it (Railway's own when known).
struct LogBound {
    core::Timestamp at;
    std::string raw;  ///< RFC 3339, nanoseconds
};

/// The window one page request asks for; a missing bound is open.
struct LogWindow {
    std::optional<LogBound> start;  ///< startDate
    std::optional<LogBound> end;    ///< endDate
};

/// Sends one page request: at most `limit` lines (Railway may send limit + 1) of the window.
using LogPageFetch = std::function<ApiResult<std::vector<LogLine>>(const LogWindow& window)>;

/// Log lines newer than `cursor`, fetched page by page (`page_size` lines per request, at most
/// `max_pages` requests) until caught up; when the page bound ends the call first, the lines
/// returned stop where the lines known stop being contiguous, and the next call goes on from
/// there. Advances `cursor` past exactly the lines returned. Errors: the first failed page's.
ApiResult<std::vector<LogLine>> FetchNewLogLines(const LogPageFetch& fetch, LogCursor& cursor, std::size_t page_size,
                                                 std::size_t max_pages);

/// Orders `lines` by time, drops what `cursor` has already returned (Railway repeats the lines
/// at startDate) and advances `cursor` to the newest line left. Keeps every line it is given.
std::vector<LogLine> TakeNewLogLines(std::vector<LogLine> lines, LogCursor& cursor);

}  // namespace railwatch::railway
