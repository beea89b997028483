#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/deployment_status.hpp"
#include "core/time.hpp"
#include "store/model.hpp"

namespace railwatch::monitor {

/// One instance a process keeps claimed between checks (docs/ENGINE.md, "Scheduling: kept
/// claims"), with its due time and, between checks, its row.
struct Kept {
  private:
    // First, with the due time and the flags: what a round reads of an entry comes in one cache
    // line. (Whether its due time is queued, and which of its queued items is current, the
    // schedule keeps apart: KeptSchedule::marks_.)
    friend class KeptSchedule;
    std::uint32_t slot_ = 0;
    bool live_ = false;     // kept (not a free slot)
    bool has_row_ = false;  // row_ holds a row (read here, beside the due time: row_'s own flag is
                            // behind the row, a dozen cache lines on)

  public:
    core::Timestamp due{};
    bool in_flight = false;  ///< taken by a round, its answer not handled yet
    /// Jobs moving the instance on to another deployment (Monitor::MoveHold): while any is, the
    /// entry is not scheduled (a check in flight lands without a due time in the order).
    std::uint16_t moving = 0;
    /// Set when a job's move ends while a check is in flight (Monitor::MoveHold): newer than the
    /// answer in flight, which was asked about the old state.
    std::optional<core::Timestamp> rescheduled;
    bool changed = false;      ///< the feed saw a change while in flight: the row landing is stale
    std::uint64_t landed = 0;  ///< the monitor's count of landings when its check last landed
    /// What the monitor's fleet map holds for it, (status, interval), as the monitor last noted
    /// it: a check that leaves both so touches no map. `known` false: not known.
    struct FleetNote {
        bool known = false;
        core::DeploymentStatus status = core::DeploymentStatus::kUnknown;
        core::Duration interval{};
    } fleet;  // (no std::optional: GCC 12 misreads one here as maybe uninitialized in the sanitizer builds)

  private:
    // DeploymentKey of the row's deployment id, taken by SetRow. See RowDeploymentKey.
    std::size_t deployment_key_ = 0;
    // The row's deployment id, copied here by SetRow when it fits (Railway's ids are 36-character
    // UUIDs); kNotCopied otherwise. See RowDeploymentId.
    static constexpr std::size_t kIdCapacity = 40;
    static constexpr std::uint8_t kNotCopied = 0xFF;
    std::array<char, kIdCapacity> deployment_text_{};
    std::uint8_t deployment_size_ = kNotCopied;

  public:
    std::string id;

  private:
    // The row as the last check left it or the change feed read it (docs/ENGINE.md, "Kept
    // claims"); none where it must be read before the next check (the check wrote it, or the feed
    // saw a change while it was in flight). While in flight: the row being checked, the poller's
    // alone (nobody else touches the row of an entry in flight). Set and dropped only by SetRow
    // and ClearRow, which keep the id's copy and key above in step with it.
    std::optional<store::Instance> row_;

  public:
    /// 0 without a deployment; else a hash of its id, never 0.
    static std::size_t DeploymentKey(const std::optional<std::string>& deployment_id) {
        return deployment_id ? std::hash<std::string_view>{}(*deployment_id) | 1 : 0;
    }
    /// Keeps `instance` as the row, with its deployment's key and id.
    void SetRow(store::Instance instance) {
        const auto& deployment = instance.state.deployment_id;
        deployment_key_ = DeploymentKey(deployment);
        deployment_size_ = kNotCopied;
        if (deployment && deployment->size() <= kIdCapacity) {
            std::copy(deployment->begin(), deployment->end(), deployment_text_.begin());
            deployment_size_ = static_cast<std::uint8_t>(deployment->size());
        }
        row_ = std::move(instance);
        has_row_ = true;
    }
    /// Drops the row (read again before the next check), with its deployment's key and id.
    void ClearRow() {
        row_.reset();
        has_row_ = false;
        deployment_key_ = 0;
        deployment_size_ = kNotCopied;
    }
    bool HasRow() const { return has_row_; }
    /// The row; only while HasRow(). Its deployment id changes only through SetRow (the round
    /// sets the due time and the lease's end in place).
    store::Instance& Row() { return *row_; }
    const store::Instance& Row() const { return *row_; }
    /// The key a round groups instances of one deployment by (DeploymentKey of the row's
    /// deployment id, taken while the row was at hand: at 100,000 entries, reading each id string
    /// again in the round cost a cache miss per check); 0 without a row or a deployment.
    std::size_t RowDeploymentKey() const { return deployment_key_; }
    /// The deployment id of the row, read from the entry beside its due time where SetRow copied
    /// it: a poll then does not reach for the row's string, elsewhere on the heap (at 100,000
    /// entries a cache miss per check; docs/PERFORMANCE.md). None without a row or a deployment.
    std::optional<std::string_view> RowDeploymentId() const {
        if (deployment_size_ != kNotCopied) return std::string_view(deployment_text_.data(), deployment_size_);
        if (!row_) return std::nullopt;
        return row_->state.deployment_id;
    }

    /// Starts loading the lines RowDeploymentId reads, without waiting for them (a poll lists its
    /// entries' ids a few entries ahead of this).
    void PrefetchRowDeploymentId() const {
        __builtin_prefetch(&deployment_size_);
        __builtin_prefetch(deployment_text_.data());
    }
    /// Starts loading what a round reads and writes of an entry it takes (Monitor::TakeKeptDue,
    /// RunRound): the due time and flags, the deployment's key, and the row's first lines (the
    /// lease's end and the state's due time: store::Instance lists them first).
    void PrefetchForRound() const {
        constexpr std::size_t kRowLines = 3;
        __builtin_prefetch(this);
        __builtin_prefetch(&deployment_key_);
        const char* const row = reinterpret_cast<const char*>(&row_);
        for (std::size_t line = 0; line < kRowLines; ++line)
            __builtin_prefetch(row + line * 64);
    }
    /// Starts loading the fleet note (a check's answer compares it: Monitor::NoteFleet).
    void PrefetchFleet() const { __builtin_prefetch(&fleet); }

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
};

/// The kept instances by id, and those not in flight by due time, earliest first (ties in the
/// order they were first kept). Entries live in slots that are reused, never freed, so a Kept&
/// stays valid (for the same instance until Forget).
///
/// The due times are a calendar queue: items due within the current bucket (2^26 ns, 67 ms) or
/// earlier sit in a small binary heap; later ones, up to kBuckets buckets (18 minutes) ahead, are
/// appended to their bucket unsorted and heaped only when the clock reaches it; later still, in
/// one overflow list placed when the calendar comes near. Moving or taking an entry leaves its old
/// item behind as stale (told by a generation number), skipped when it comes up and dropped when
/// stale items outnumber live ones by kCompactSlack. So scheduling costs no allocation (a drained
/// bucket's storage goes to the next one that fills) and no walk through a structure of the whole fleet: a binary heap
/// of 100,000 due times cost ~17 cache misses per check, a std::set of (due, id) an allocation and ~17 pointer hops
/// besides (docs/PERFORMANCE.md, "The hot path's lookups, moves and copies").
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
    /// else null. The entry itself is not read (its lines are the caller's to load, ahead of use).
    Kept* TakeEarliest(core::Timestamp until);
    /// Up to `count` queued entries, latest due first.
    std::vector<Kept*> Latest(std::size_t count);
    /// Calls `f(Kept&)` for every kept entry; `f` may Forget the entry it is given.
    void ForEach(const std::function<void(Kept&)>& f);
    std::size_t size() const { return index_.size(); }
    void Clear();
    /// Items held, stale ones included (tests).
    std::size_t QueuedForTest() const { return near_.size() + in_buckets_ + far_.size(); }
    /// Items the queue has storage for, spare storage included (tests).
    std::size_t CapacityForTest() const;

    static constexpr int kBucketShift = 26;  ///< a bucket spans 2^26 ns (67 ms)
    static constexpr std::size_t kBuckets = std::size_t{1} << 14;
    /// Stale items tolerated beyond as many as live ones before they are dropped.
    static constexpr std::size_t kCompactSlack = 1024;

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
    static std::int64_t BucketOf(core::Timestamp due) { return due.time_since_epoch().count() >> kBucketShift; }
    bool Current(const Queued& q) const { return marks_[q.slot] == Mark(q.generation, true); }
    static std::uint32_t Mark(std::uint32_t generation, bool queued) { return generation << 1 | (queued ? 1u : 0u); }
    static std::uint32_t GenerationOf(std::uint32_t mark) { return mark >> 1; }
    static bool QueuedOf(std::uint32_t mark) { return (mark & 1u) != 0; }
    // Ends the slot's queued item (if any): stale from here.
    void Unqueue(std::uint32_t slot);
    static bool Later(const Queued& a, const Queued& b);  // the heap's order: due, then slot
    void Place(const Queued& q);
    void PopTop();
    // Drops stale items off the top of near_, moving the calendar on while near_ runs empty;
    // false: nothing is queued.
    bool Settle();
    void SpillFar();
    void Compact();

    // Slots in chunks of kChunk (a std::deque of entries this size holds one per block: two cache
    // misses per look instead of one).
    static constexpr std::uint32_t kChunkShift = 8;
    static constexpr std::uint32_t kChunk = 1u << kChunkShift;
    Kept& Slot(std::uint32_t slot) { return chunks_[slot >> kChunkShift][slot & (kChunk - 1)]; }
    const Kept& Slot(std::uint32_t slot) const { return chunks_[slot >> kChunkShift][slot & (kChunk - 1)]; }
    std::vector<std::unique_ptr<Kept[]>> chunks_;
    std::uint32_t slot_count_ = 0;  // slots in use or free
    std::vector<std::uint32_t> free_;
    // Per slot: its generation (bumped whenever its queued due time becomes stale) and whether it
    // is queued, as Mark(). Apart from the entries: telling an item current reads 4 bytes of one
    // dense array (400 KB at 100,000) where the entry's line was a cache miss per check.
    std::vector<std::uint32_t> marks_;
    std::unordered_map<std::string, std::uint32_t, IdHash, std::equal_to<>> index_;
    std::vector<Queued> near_;  // a min-heap by (due, slot) of the items in buckets <= current_
    std::vector<std::vector<Queued>> buckets_ = std::vector<std::vector<Queued>>(kBuckets);  // by bucket % kBuckets
    std::size_t in_buckets_ = 0;                                                             // items in buckets_
    // Storage of drained buckets, handed to buckets as they fill (so none allocates in steady state).
    static constexpr std::size_t kSpareBuffers = 64;
    std::vector<std::vector<Queued>> spare_;
    std::vector<Queued> far_;  // items kBuckets or more buckets after current_
    std::int64_t far_first_ = std::numeric_limits<std::int64_t>::max();  // the earliest bucket in far_
    std::int64_t current_ = 0;                                           // buckets up to this one are in near_
    std::size_t scheduled_ = 0;                                          // current items (the rest are stale)
};

}  // namespace railwatch::monitor
