// The kept schedule's steady state (docs/PERFORMANCE.md, "Engine"): a fleet of N kept instances,
// each round taking the earliest due and landing each with its next due time one interval later,
// as Monitor::TakeKeptDue and Monitor::KeepChecked do. KeptSchedule (slots and a calendar queue)
// against the structure it replaced first: an unordered_map by id and a std::set of (due, id).
// The second argument: 1 lands each answer by id (Find), as KeepChecked did before the answers
// carried their entries; 0 by the entry taken.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "monitor/kept_schedule.hpp"

namespace railwatch::monitor {
namespace {

using core::Timestamp;

// 36-character ids like Railway's and railwatch's.
std::vector<std::string> Ids(int count) {
    std::vector<std::string> ids;
    ids.reserve(static_cast<std::size_t>(count));
    for (int n = 0; n < count; ++n) {
        std::string id = "00000000-0000-4000-8000-" + std::to_string(100000000000LL + n);
        ids.push_back(id);
    }
    return ids;
}

// The next due time: one interval (10 s) later, with ±10 % jitter from a fixed generator.
struct Jitter {
    std::uint64_t state = 0x9E3779B97F4A7C15ULL;
    core::Duration Next() {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const auto spread = static_cast<long long>((state >> 33) % 2000);  // 0..1999 ms
        return core::Seconds(9) + std::chrono::milliseconds(spread);
    }
};

constexpr int kPerRound = 400;

void KeptScheduleSteadyState(benchmark::State& state) {
    const int count = static_cast<int>(state.range(0));
    const bool by_id = state.range(1) != 0;
    const auto ids = Ids(count);
    KeptSchedule schedule;
    Jitter jitter;
    Timestamp now{};
    for (const std::string& id : ids) {
        Kept& kept = *schedule.Add(id).first;
        kept.due = now + jitter.Next();
        schedule.Schedule(kept);
    }
    std::vector<Kept*> taken;
    long long checks = 0;
    for (auto _ : state) {
        taken.clear();
        now = *schedule.Earliest();
        while (taken.size() < kPerRound) {
            Kept* kept = schedule.TakeEarliest(now + core::Seconds(2));
            if (kept == nullptr) break;
            kept->in_flight = true;
            taken.push_back(kept);
        }
        for (Kept* kept : taken) {
            Kept* found = by_id ? schedule.Find(kept->id) : kept;
            found->Land(now + jitter.Next());
            schedule.Schedule(*found);
        }
        checks += static_cast<long long>(taken.size());
    }
    state.counters["ns/check"] =
        benchmark::Counter(static_cast<double>(checks), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

// What it replaced (monitor.hpp before 92ce4d5).
void MapAndSetSteadyState(benchmark::State& state) {
    struct Entry {
        Timestamp due{};
        bool in_flight = false;
    };
    struct IdHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view id) const noexcept { return std::hash<std::string_view>{}(id); }
    };
    const int count = static_cast<int>(state.range(0));
    const auto ids = Ids(count);
    std::unordered_map<std::string, Entry, IdHash, std::equal_to<>> kept;
    std::set<std::pair<Timestamp, std::string_view>> due;
    Jitter jitter;
    Timestamp now{};
    for (const std::string& id : ids) {
        auto [entry, added] = kept.try_emplace(id);
        entry->second.due = now + jitter.Next();
        due.emplace(entry->second.due, entry->first);
    }
    std::vector<std::string_view> taken;
    long long checks = 0;
    for (auto _ : state) {
        taken.clear();
        now = due.begin()->first;
        while (taken.size() < kPerRound && !due.empty() && due.begin()->first <= now + core::Seconds(2)) {
            const auto found = kept.find(due.begin()->second);
            due.erase(due.begin());
            found->second.in_flight = true;
            taken.push_back(found->first);
        }
        for (std::string_view id : taken) {
            const auto found = kept.find(id);
            found->second.in_flight = false;
            found->second.due = now + jitter.Next();
            due.emplace(found->second.due, found->first);
        }
        checks += static_cast<long long>(taken.size());
    }
    state.counters["ns/check"] =
        benchmark::Counter(static_cast<double>(checks), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

BENCHMARK(KeptScheduleSteadyState)->ArgsProduct({{2000, 100000}, {0, 1}})->MinTime(1);
BENCHMARK(MapAndSetSteadyState)->Arg(2000)->Arg(100000)->MinTime(1);

}  // namespace
}  // namespace railwatch::monitor

BENCHMARK_MAIN();
