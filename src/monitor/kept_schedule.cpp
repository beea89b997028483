#include "monitor/kept_schedule.hpp"

#include <algorithm>

namespace railwatch::monitor {

Kept* KeptSchedule::Find(std::string_view id) {
    const auto found = index_.find(id);
    return found == index_.end() ? nullptr : &slots_[found->second];
}

std::pair<Kept*, bool> KeptSchedule::Add(std::string_view id) {
    if (Kept* kept = Find(id)) return {kept, false};
    std::uint32_t slot = 0;
    if (free_.empty()) {
        slot = static_cast<std::uint32_t>(slots_.size());
        slots_.emplace_back();
    } else {
        slot = free_.back();
        free_.pop_back();
    }
    Kept& kept = slots_[slot];
    const std::uint32_t generation = kept.generation_;  // items of an earlier occupant stay stale
    kept = Kept{};
    kept.id = std::string(id);
    kept.slot_ = slot;
    kept.generation_ = generation + 1;
    kept.live_ = true;
    index_.emplace(kept.id, slot);
    return {&kept, true};
}

void KeptSchedule::Schedule(Kept& entry) {
    Unschedule(entry);
    entry.queued_ = true;
    ++scheduled_;
    heap_.push_back(Queued{entry.due, entry.slot_, entry.generation_});
    std::push_heap(heap_.begin(), heap_.end(), Later);
    if (heap_.size() > 2 * scheduled_ + 64) Compact();
}

void KeptSchedule::Unschedule(Kept& entry) {
    if (!entry.queued_) return;
    entry.queued_ = false;
    ++entry.generation_;
    --scheduled_;
}

void KeptSchedule::Forget(Kept& entry) {
    if (!entry.live_) return;
    Unschedule(entry);
    index_.erase(entry.id);
    entry.live_ = false;
    entry.id.clear();
    entry.row.reset();
    entry.rescheduled.reset();
    free_.push_back(entry.slot_);
}

std::optional<core::Timestamp> KeptSchedule::Earliest() {
    DropStaleTops();
    if (heap_.empty()) return std::nullopt;
    return heap_.front().due;
}

Kept* KeptSchedule::TakeEarliest(core::Timestamp until) {
    DropStaleTops();
    if (heap_.empty() || heap_.front().due > until) return nullptr;
    Kept& kept = slots_[heap_.front().slot];
    PopTop();
    kept.queued_ = false;
    ++kept.generation_;
    --scheduled_;
    return &kept;
}

std::vector<Kept*> KeptSchedule::Latest(std::size_t count) {
    std::vector<Queued> current;
    current.reserve(scheduled_);
    for (const Queued& q : heap_)
        if (Current(q)) current.push_back(q);
    count = std::min(count, current.size());
    const auto later_first = Later;
    std::partial_sort(current.begin(), current.begin() + static_cast<std::ptrdiff_t>(count), current.end(),
                      later_first);
    std::vector<Kept*> out;
    out.reserve(count);
    for (std::size_t k = 0; k < count; ++k)
        out.push_back(&slots_[current[k].slot]);
    return out;
}

void KeptSchedule::ForEach(const std::function<void(Kept&)>& f) {
    for (Kept& kept : slots_)
        if (kept.live_) f(kept);
}

void KeptSchedule::Clear() {
    slots_.clear();
    free_.clear();
    index_.clear();
    heap_.clear();
    scheduled_ = 0;
}

bool KeptSchedule::Current(const Queued& q) const {
    const Kept& kept = slots_[q.slot];
    return kept.live_ && kept.queued_ && kept.generation_ == q.generation;
}

bool KeptSchedule::Later(const Queued& a, const Queued& b) {
    // Ties by slot (in the item, so a stale item's place never changes): the order instances were
    // first kept in, for a claim earliest due and then by id.
    if (a.due != b.due) return a.due > b.due;
    return a.slot > b.slot;
}

void KeptSchedule::PopTop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    heap_.pop_back();
}

void KeptSchedule::DropStaleTops() {
    while (!heap_.empty() && !Current(heap_.front()))
        PopTop();
}

void KeptSchedule::Compact() {
    std::erase_if(heap_, [this](const Queued& q) { return !Current(q); });
    std::make_heap(heap_.begin(), heap_.end(), Later);
}

}  // namespace railwatch::monitor
