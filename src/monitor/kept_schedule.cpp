#include "monitor/kept_schedule.hpp"

#include <algorithm>

namespace railwatch::monitor {

Kept* KeptSchedule::Find(std::string_view id) {
    const auto found = index_.find(id);
    return found == index_.end() ? nullptr : &Slot(found->second);
}

std::pair<Kept*, bool> KeptSchedule::Add(std::string_view id) {
    if (Kept* kept = Find(id)) return {kept, false};
    std::uint32_t slot = 0;
    if (free_.empty()) {
        slot = slot_count_++;
        if ((slot >> kChunkShift) >= chunks_.size()) chunks_.push_back(std::make_unique<Kept[]>(kChunk));
        marks_.push_back(Mark(0, false));
    } else {
        slot = free_.back();
        free_.pop_back();
    }
    Kept& kept = Slot(slot);
    marks_[slot] = Mark(GenerationOf(marks_[slot]) + 1, false);  // items of an earlier occupant stay stale
    kept = Kept{};
    kept.id = std::string(id);
    kept.slot_ = slot;
    kept.live_ = true;
    index_.emplace(kept.id, slot);
    return {&kept, true};
}

void KeptSchedule::Schedule(Kept& entry) {
    Unschedule(entry);
    if (scheduled_ == 0) current_ = BucketOf(entry.due);  // nothing live queued: start the calendar here
    const std::uint32_t generation = GenerationOf(marks_[entry.slot_]);
    marks_[entry.slot_] = Mark(generation, true);
    ++scheduled_;
    Place(Queued{entry.due, entry.slot_, generation});
    if (QueuedForTest() > 2 * scheduled_ + kCompactSlack) Compact();
}

void KeptSchedule::Unschedule(Kept& entry) {
    Unqueue(entry.slot_);
}

void KeptSchedule::Unqueue(std::uint32_t slot) {
    const std::uint32_t mark = marks_[slot];
    if (!QueuedOf(mark)) return;
    marks_[slot] = Mark(GenerationOf(mark) + 1, false);
    --scheduled_;
}

void KeptSchedule::Forget(Kept& entry) {
    if (!entry.live_) return;
    Unschedule(entry);
    index_.erase(entry.id);
    entry.live_ = false;
    entry.id.clear();
    entry.ClearRow();
    entry.rescheduled.reset();
    free_.push_back(entry.slot_);
}

std::optional<core::Timestamp> KeptSchedule::Earliest() {
    if (!Settle()) return std::nullopt;
    return near_.front().due;
}

Kept* KeptSchedule::TakeEarliest(core::Timestamp until) {
    if (!Settle() || near_.front().due > until) return nullptr;
    const std::uint32_t slot = near_.front().slot;
    PopTop();
    Unqueue(slot);
    return &Slot(slot);
}

std::vector<Kept*> KeptSchedule::Latest(std::size_t count) {
    std::vector<Queued> current;
    current.reserve(scheduled_);
    const auto gather = [&](const std::vector<Queued>& items) {
        for (const Queued& q : items)
            if (Current(q)) current.push_back(q);
    };
    gather(near_);
    if (in_buckets_ > 0) {
        for (const auto& bucket : buckets_)
            gather(bucket);
    }
    gather(far_);
    count = std::min(count, current.size());
    const auto later_first = Later;
    std::partial_sort(current.begin(), current.begin() + static_cast<std::ptrdiff_t>(count), current.end(),
                      later_first);
    std::vector<Kept*> out;
    out.reserve(count);
    for (std::size_t k = 0; k < count; ++k)
        out.push_back(&Slot(current[k].slot));
    return out;
}

void KeptSchedule::ForEach(const std::function<void(Kept&)>& f) {
    for (std::uint32_t slot = 0; slot < slot_count_; ++slot)
        if (Kept& kept = Slot(slot); kept.live_) f(kept);
}

void KeptSchedule::Clear() {
    chunks_.clear();
    slot_count_ = 0;
    free_.clear();
    marks_.clear();
    index_.clear();
    near_.clear();
    for (auto& bucket : buckets_)
        bucket = std::vector<Queued>();
    spare_.clear();
    in_buckets_ = 0;
    far_.clear();
    far_first_ = std::numeric_limits<std::int64_t>::max();
    scheduled_ = 0;
}

std::size_t KeptSchedule::CapacityForTest() const {
    std::size_t capacity = near_.capacity() + far_.capacity();
    for (const auto& bucket : buckets_)
        capacity += bucket.capacity();
    for (const auto& spare : spare_)
        capacity += spare.capacity();
    return capacity;
}

bool KeptSchedule::Later(const Queued& a, const Queued& b) {
    // Ties by slot (in the item, so a stale item's place never changes): the order instances were
    // first kept in, for a claim earliest due and then by id.
    if (a.due != b.due) return a.due > b.due;
    return a.slot > b.slot;
}

void KeptSchedule::Place(const Queued& q) {
    const std::int64_t bucket = BucketOf(q.due);
    if (bucket <= current_) {
        near_.push_back(q);
        std::push_heap(near_.begin(), near_.end(), Later);
    } else if (bucket - current_ < static_cast<std::int64_t>(kBuckets)) {
        auto& items = buckets_[static_cast<std::size_t>(bucket) % kBuckets];
        if (items.capacity() == 0 && !spare_.empty()) {
            items = std::move(spare_.back());
            spare_.pop_back();
        }
        items.push_back(q);
        ++in_buckets_;
    } else {
        far_.push_back(q);
        far_first_ = std::min(far_first_, bucket);
    }
}

void KeptSchedule::PopTop() {
    std::pop_heap(near_.begin(), near_.end(), Later);
    near_.pop_back();
}

bool KeptSchedule::Settle() {
    for (;;) {
        while (!near_.empty() && !Current(near_.front()))
            PopTop();
        if (!near_.empty()) return true;
        if (scheduled_ == 0) {
            // Only stale items are left: drop them all.
            if (in_buckets_ > 0 || !far_.empty()) Compact();
            return false;
        }
        // The next bucket: the calendar's, or when it is empty, the overflow's first one.
        current_ = in_buckets_ > 0 ? current_ + 1 : far_first_;
        if (!far_.empty() && far_first_ - current_ < static_cast<std::int64_t>(kBuckets)) SpillFar();
        auto& bucket = buckets_[static_cast<std::size_t>(current_) % kBuckets];
        if (bucket.empty()) continue;
        // Stale ones too: told apart when they come up.
        in_buckets_ -= bucket.size();
        near_.insert(near_.end(), bucket.begin(), bucket.end());
        for (const Queued& q : bucket)  // they come up next: their marks on the way
            __builtin_prefetch(&marks_[q.slot]);
        // Its storage goes to the next bucket that fills: kept here, every bucket of the ring
        // would hold the capacity of its fullest turn (hundreds of MB at 100,000 after a turn).
        bucket.clear();
        if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(bucket));
        bucket = std::vector<Queued>();
        std::make_heap(near_.begin(), near_.end(), Later);
    }
}

void KeptSchedule::SpillFar() {
    std::vector<Queued> far;
    far.swap(far_);
    far_first_ = std::numeric_limits<std::int64_t>::max();
    for (const Queued& q : far)
        if (Current(q)) Place(q);
}

void KeptSchedule::Compact() {
    const auto stale = [this](const Queued& q) { return !Current(q); };
    std::erase_if(near_, stale);
    std::make_heap(near_.begin(), near_.end(), Later);
    if (in_buckets_ > 0) {
        in_buckets_ = 0;
        for (auto& bucket : buckets_) {
            std::erase_if(bucket, stale);
            in_buckets_ += bucket.size();
        }
    }
    std::erase_if(far_, stale);
    far_first_ = std::numeric_limits<std::int64_t>::max();
    for (const Queued& q : far_)
        far_first_ = std::min(far_first_, BucketOf(q.due));
}

}  // namespace railwatch::monitor
