#include "railway/log_pager.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "util/rfc3339.hpp"

namespace railwatch::railway {
namespace {

bool Earlier(const LogLine& a, const LogLine& b) {
    return a.timestamp < b.timestamp;
}

LogBound BoundOf(const LogLine& line) {
    return LogBound{line.timestamp, line.timestamp_raw};
}

// How far the lines of one gap are known once FillGap stops.
struct GapFill {
    bool closed = false;              // every line between the gap's edges is known
    std::optional<LogBound> reached;  // else: lines are known without a hole from the gap's start up to here
    LogBound known_from;              // ...and every line from here on is known
};

// Where a Pager run stopped.
struct Stop {
    bool caught_up = false;
    std::optional<LogBound> contiguous_until;  // not caught up: lines join the cursor up to here
    std::optional<LogBound> newest_from;       // a first fetch that could not reach the oldest lines:
                                               // every line from here on is known
};

// One FetchNewLogLines call: the pages fetched so far, merged.
class Pager {
  public:
    Pager(const LogPageFetch& fetch, std::size_t page_size, std::size_t max_pages)
        : fetch_(fetch), page_size_(std::max<std::size_t>(page_size, 1)), max_pages_(max_pages) {}

    // Walks forward from `from` until a page is not full (caught up) or the page bound ends.
    ApiResult<Stop> Run(std::optional<LogBound> from) {
        std::optional<LogBound> frontier = std::move(from);
        while (pages_ < max_pages_) {
            auto page = Fetch(LogWindow{frontier, std::nullopt});
            if (!page) return tl::unexpected(std::move(page.error()));
            if (page->size() < page_size_) return Stop{true, std::nullopt, std::nullopt};
            const LogBound oldest = BoundOf(page->front());
            const LogBound newest = BoundOf(page->back());
            if (!frontier || oldest.at > frontier->at) {
                auto fill = FillGap(frontier, oldest);
                if (!fill) return tl::unexpected(std::move(fill.error()));
                if (!fill->closed) {
                    if (frontier) return Stop{false, fill->reached, std::nullopt};
                    return Stop{false, std::nullopt, fill->known_from};
                }
            }
            frontier = newest;
        }
        return Stop{false, frontier, std::nullopt};
    }

    std::vector<LogLine> TakePool() {
        std::vector<LogLine> out;
        out.reserve(pool_.size());
        for (auto& [key, lines] : pool_) {
            for (auto& line : lines)
                out.push_back(std::move(line));
        }
        pool_.clear();
        return out;
    }

  private:
    // Closes the possible hole between `lo` (lines known up to it; open on a first fetch) and
    // `hi` (every line from `hi` on is known) with windows [lo, end]. A full window cut at its
    // tail walks `hi` back (its lines join those known from `hi` on) and then shrinks the next
    // window from `lo` to about half a page's worth of time, as measured on that page; a window
    // that is not full moves `lo` to its end, and the next one is twice that length.
    ApiResult<GapFill> FillGap(std::optional<LogBound> lo, LogBound hi) {
        LogBound end = hi;
        std::optional<core::Duration> step;
        const auto until = [&](core::Timestamp t) {
            return t >= hi.at ? hi : LogBound{t, util::FormatRfc3339(t, util::TimePrecision::kNanos)};
        };
        while (pages_ < max_pages_) {
            auto page = Fetch(LogWindow{lo, end});
            if (!page) return tl::unexpected(std::move(page.error()));
            if (page->size() < page_size_) {  // everything in [lo, end] is known
                if (end.at >= hi.at) return GapFill{true, std::nullopt, hi};
                lo = end;
                end = step ? until(lo->at + 2 * *step) : hi;
                continue;
            }
            const LogBound oldest = BoundOf(page->front());
            const LogBound newest = BoundOf(page->back());
            if (lo && oldest.at <= lo->at) {  // cut at its head: known from lo to the page's newest line
                lo = newest;
                if (lo->at >= hi.at) return GapFill{true, std::nullopt, hi};
                if (lo->at >= end.at) end = hi;
                continue;
            }
            // Cut at its tail: [oldest, end] is known, [lo, oldest) is not.
            if (end.at >= hi.at) hi = oldest;
            if (!lo) {
                end = hi;  // no lower edge to measure from: walk back
                continue;
            }
            step = std::max<core::Duration>((newest.at - oldest.at) / 2, core::Duration(1));
            const core::Timestamp next = std::min(lo->at + *step, oldest.at - core::Duration(1));
            if (next <= lo->at) break;  // more than a page of lines at one instant: no window holds them
            end = until(next);
        }
        return GapFill{false, lo, hi};
    }

    ApiResult<std::vector<LogLine>> Fetch(const LogWindow& window) {
        ++pages_;
        auto page = fetch_(window);
        if (!page) return page;
        std::stable_sort(page->begin(), page->end(), Earlier);
        Merge(*page);
        return page;
    }

    // Adds a page to the pool: a line already there (same time and message) from an earlier,
    // overlapping page is not added twice, but identical lines within one page all are.
    void Merge(const std::vector<LogLine>& page) {
        std::map<std::pair<core::Timestamp, std::string>, std::size_t> in_page;
        for (const auto& line : page) {
            auto& known = pool_[{line.timestamp, line.message}];
            if (++in_page[{line.timestamp, line.message}] > known.size()) known.push_back(line);
        }
    }

    const LogPageFetch& fetch_;
    std::size_t page_size_;
    std::size_t max_pages_;
    std::size_t pages_ = 0;
    std::map<std::pair<core::Timestamp, std::string>, std::vector<LogLine>> pool_;  // ordered by time
};

}  // namespace

std::vector<LogLine> TakeNewLogLines(std::vector<LogLine> lines, LogCursor& cursor) {
    std::stable_sort(lines.begin(), lines.end(), Earlier);
    std::vector<LogLine> fresh;
    fresh.reserve(lines.size());
    for (auto& line : lines) {
        if (cursor.last) {
            if (line.timestamp < *cursor.last) continue;
            if (line.timestamp == *cursor.last &&
                std::find(cursor.messages_at_last.begin(), cursor.messages_at_last.end(), line.message) !=
                    cursor.messages_at_last.end()) {
                continue;
            }
        }
        fresh.push_back(std::move(line));
    }
    for (const auto& line : fresh) {
        if (!cursor.last || line.timestamp > *cursor.last) {
            cursor.last = line.timestamp;
            cursor.last_raw = line.timestamp_raw;
            cursor.messages_at_last.clear();
        }
        cursor.messages_at_last.push_back(line.message);
    }
    return fresh;
}

ApiResult<std::vector<LogLine>> FetchNewLogLines(const LogPageFetch& fetch, LogCursor& cursor, std::size_t page_size,
                                                 std::size_t max_pages) {
    Pager pager(fetch, page_size, max_pages);
    std::optional<LogBound> from;
    if (cursor.last) from = LogBound{*cursor.last, cursor.last_raw};
    auto stop = pager.Run(from);
    if (!stop) return tl::unexpected(std::move(stop.error()));
    std::vector<LogLine> lines = pager.TakePool();
    if (stop->newest_from) {
        std::erase_if(lines, [&](const LogLine& line) { return line.timestamp < stop->newest_from->at; });
        cursor.older_lines_omitted = true;
    } else if (!stop->caught_up) {
        // Return only what joins the cursor without a hole; the next call goes on from there.
        const auto& edge = stop->contiguous_until;
        std::erase_if(lines, [&](const LogLine& line) { return !edge || line.timestamp > edge->at; });
    }
    return TakeNewLogLines(std::move(lines), cursor);
}

}  // namespace railwatch::railway
