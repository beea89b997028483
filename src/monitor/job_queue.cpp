#include "monitor/job_queue.hpp"

namespace railwatch::monitor {

void JobQueue::Push(Job job) {
    ++per_instance_[job.instance_id];
    const auto key = std::make_pair(job.not_before, next_seq_++);
    later_.emplace(key, std::move(job));
    ++size_;
}

// Jobs whose time has come move to their kind's queue, keeping their queuing order.
void JobQueue::MoveDue(core::Timestamp now) {
    while (!later_.empty() && later_.begin()->first.first <= now) {
        auto node = later_.extract(later_.begin());
        const std::uint64_t seq = node.key().second;
        auto& queue = due_[static_cast<std::size_t>(node.mapped().kind)];
        queue.emplace(seq, std::move(node.mapped()));
    }
}

std::optional<Job> JobQueue::TakeDue(core::Timestamp now, const std::set<std::string>& busy) {
    MoveDue(now);
    for (auto& queue : due_) {
        for (auto it = queue.begin(); it != queue.end(); ++it) {
            if (busy.contains(it->second.instance_id)) continue;
            Job job = std::move(it->second);
            queue.erase(it);
            if (const auto count = per_instance_.find(job.instance_id); --count->second == 0)
                per_instance_.erase(count);
            --size_;
            return job;
        }
    }
    return std::nullopt;
}

std::optional<core::Timestamp> JobQueue::NextDue(core::Timestamp now, const std::set<std::string>& busy) const {
    for (const auto& queue : due_) {
        for (const auto& [seq, job] : queue) {
            if (!busy.contains(job.instance_id)) return std::min(job.not_before, now);
        }
    }
    for (const auto& [key, job] : later_) {
        if (!busy.contains(job.instance_id)) return job.not_before;
    }
    return std::nullopt;
}

bool JobQueue::HasJobOf(std::string_view instance_id) const {
    return per_instance_.contains(std::string(instance_id));
}

}  // namespace railwatch::monitor
