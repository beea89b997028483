#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "store/model.hpp"

namespace railwatch::monitor {

/// One instance a process keeps claimed between checks (docs/ENGINE.md, "Scheduling: kept
/// claims"), with its due time and, between checks, its row.
struct Kept {
    std::string id;
    core::Timestamp due{};
    bool in_flight = false;  ///< taken by a round, its answer not handled yet
    /// Set by Reschedule while in flight (a job moved the instance on: a redeploy read its new
    /// deployment): newer than the answer in flight, which was asked about the old state.
    std::optional<core::Timestamp> rescheduled;
    /// The row as the last check left it or the change feed read it (docs/ENGINE.md, "Kept
    /// claims"); none while in flight, and where it must be read before the next check (the
    /// check wrote it, or the feed saw a change while it was in flight).
    std::optional<store::Instance> row;
    bool changed = false;      ///< the feed saw a change while in flight: the row landing is stale
    std::uint64_t landed = 0;  ///< the monitor's count of landings when its check last landed

    /// Ends a check in flight: due again when a job said meanwhile, else at `answer` (if any: a
    /// cancelled or failed take keeps the due time it had).
    void Land(std::optional<core::Timestamp> answer = std::nullopt) {
        in_flight = false;
        if (rescheduled) {
            due = *rescheduled;
            rescheduled.reset();
        } else if (answer) {
            due = *answer;
        }
    }

  private:
    friend class KeptSchedule;
    std::uint32_t slot_ = 0;
    std::uint32_t generation_ = 0;  // bumped whenever its queued due time becomes stale
    bool live_ = false;             // kept (not a free slot)
    bool queued_ = false;           // its current generation is in the heap
};

/// The kept instances by id, and those not in flight by due time, earliest first (ties in the
/// order they were first kept). Entries live
/// in slots that are reused, never freed, so a Kept& stays valid (for the same instance until
/// Forget). The due times are a binary heap with lazy deletion: moving or taking an entry
/// leaves its old heap item behind as stale (told by a generation number), skipped when it
/// comes to the top and dropped when stale items outnumber live ones. So scheduling costs no
/// allocation and no tree walk (a std::set of (due, id) cost an allocation and ~17 pointer hops per
/// check at 100,000: docs/PERFORMANCE.md).
///
/// Thread-safety: none; the monitor calls it with its mutex held.
class KeptSchedule {
  public:
    /// The entry kept for `id`, or null.
    Kept* Find(std::string_view id);
    /// The entry for `id`, added (not scheduled, not in flight) when there is none; second: added.
    std::pair<Kept*, bool> Add(std::string_view id);
    /// Queues `entry` at its `due` (an earlier queued due time of it becomes stale).
    void Schedule(Kept& entry);
    /// Takes `entry` out of the due-time order (it stays kept).
    void Unschedule(Kept& entry);
    /// Drops `entry` (and its queued due time). The reference may be reused for another id.
    void Forget(Kept& entry);
    /// The earliest queued due time, if any.
    std::optional<core::Timestamp> Earliest();
    /// The entry with the earliest queued due time if that is ≤ `until`, taken out of the order;
    /// else null.
    Kept* TakeEarliest(core::Timestamp until);
    /// Up to `count` queued entries, latest due first.
    std::vector<Kept*> Latest(std::size_t count);
    /// Calls `f(Kept&)` for every kept entry; `f` may Forget the entry it is given.
    void ForEach(const std::function<void(Kept&)>& f);
    std::size_t size() const { return index_.size(); }
    void Clear();
    /// Heap items held, stale ones included (tests).
    std::size_t QueuedForTest() const { return heap_.size(); }

  private:
    struct Queued {
        core::Timestamp due;
        std::uint32_t slot;
        std::uint32_t generation;
    };
    struct IdHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view id) const noexcept { return std::hash<std::string_view>{}(id); }
    };
    bool Current(const Queued& q) const;
    static bool Later(const Queued& a, const Queued& b);  // the heap's order: due, then slot
    void PopTop();
    void DropStaleTops();
    void Compact();

    std::deque<Kept> slots_;
    std::vector<std::uint32_t> free_;
    std::unordered_map<std::string, std::uint32_t, IdHash, std::equal_to<>> index_;
    std::vector<Queued> heap_;   // a min-heap by (due, slot)
    std::size_t scheduled_ = 0;  // current heap items (the rest are stale)
};

}  // namespace railwatch::monitor
