#include "monitor/job_queue.hpp"

#include <algorithm>

namespace railwatch::monitor {

void JobQueue::Push(Job job) {
    job.order = next_seq_++;
    Wait(std::move(job));
}

void JobQueue::Defer(Job job, core::Timestamp until) {
    auto& held = held_until_[static_cast<std::size_t>(job.kind)];
    held = std::max(held, until);
    job.not_before = until;
    Wait(std::move(job));  // its order kept: first of its kind again once due
}

void JobQueue::Wait(Job job) {
    ++per_instance_[job.instance_id];
    const auto key = std::make_pair(job.not_before, job.order);
    later_.emplace(key, std::move(job));
    ++size_;
}

// Jobs whose time has come move to their kind's queue, keeping their queuing order.
void JobQueue::MoveDue(core::Timestamp now) {
    while (!later_.empty() && later_.begin()->first.first <= now) {
        auto node = later_.extract(later_.begin());
        auto& queue = due_[static_cast<std::size_t>(node.mapped().kind)];
        queue.emplace(node.mapped().order, std::move(node.mapped()));
    }
}

std::optional<Job> JobQueue::TakeDue(core::Timestamp now, const std::set<std::string>& busy) {
    MoveDue(now);
    for (std::size_t kind = 0; kind < kKinds; ++kind) {
        if (now < held_until_[kind]) continue;
        auto& queue = due_[kind];
        for (auto it = queue.begin(); it != queue.end(); ++it)
            if (!busy.contains(it->second.instance_id)) return Take(queue, it);
    }
    return std::nullopt;
}

std::vector<Job> JobQueue::TakeDueOf(JobKind kind, core::Timestamp now, const std::set<std::string>& busy,
                                     std::size_t max) {
    std::vector<Job> taken;
    const auto k = static_cast<std::size_t>(kind);
    if (now < held_until_[k]) return taken;
    MoveDue(now);
    auto& queue = due_[k];
    for (auto it = queue.begin(); it != queue.end() && taken.size() < max;) {
        const std::string& instance = it->second.instance_id;
        if (busy.contains(instance) ||
            std::any_of(taken.begin(), taken.end(), [&](const Job& job) { return job.instance_id == instance; })) {
            ++it;
            continue;
        }
        auto next = std::next(it);
        taken.push_back(Take(queue, it));
        it = next;
    }
    return taken;
}

Job JobQueue::Take(std::map<std::uint64_t, Job>& queue, std::map<std::uint64_t, Job>::iterator it) {
    Job job = std::move(it->second);
    queue.erase(it);
    if (const auto count = per_instance_.find(job.instance_id); --count->second == 0) per_instance_.erase(count);
    --size_;
    return job;
}

std::optional<core::Timestamp> JobQueue::NextDue(const std::set<std::string>& busy) const {
    std::optional<core::Timestamp> next;
    const auto consider = [&](core::Timestamp t) {
        if (!next || t < *next) next = t;
    };
    for (std::size_t kind = 0; kind < kKinds; ++kind) {
        for (const auto& [order, job] : due_[kind]) {
            if (busy.contains(job.instance_id)) continue;
            consider(std::max(job.not_before, held_until_[kind]));
            break;
        }
    }
    // By not_before: once it reaches the earliest time found, nothing further can be earlier.
    for (const auto& [key, job] : later_) {
        if (next && key.first >= *next) break;
        if (!busy.contains(job.instance_id))
            consider(std::max(key.first, held_until_[static_cast<std::size_t>(job.kind)]));
    }
    return next;
}

bool JobQueue::HasJobOf(std::string_view instance_id) const {
    return per_instance_.contains(std::string(instance_id));
}

}  // namespace railwatch::monitor
