#include "sim/lifecycle.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace railwatch::sim {
namespace {

using core::DeploymentStatus;
using core::Duration;
using core::Timestamp;

/// SplitMix64: small, fast and the same on every platform (std distributions are not).
class Rng {
  public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t Next() {
        std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double Uniform() { return static_cast<double>(Next() >> 11) * (1.0 / 9007199254740992.0); }

  private:
    std::uint64_t state_;
};

class Planner {
  public:
    Planner(const Durations& d, double time_scale, std::uint64_t seed)
        : d_(d), scale_(time_scale > 0 ? time_scale : 1.0), rng_(seed) {}

    Duration Span(double railway_s) {
        const double jitter = 1.0 + d_.jitter * (2.0 * rng_.Uniform() - 1.0);
        const double real_ns = std::max(0.0, railway_s) * jitter / scale_ * 1e9;
        return std::max(Duration(std::chrono::milliseconds(1)), Duration(static_cast<long long>(real_ns)));
    }

    void Push(std::vector<TimelineEntry>& out, DeploymentStatus s, Timestamp& t) {
        if (!out.empty() && t <= out.back().at) t = out.back().at + std::chrono::milliseconds(1);
        out.push_back({s, t});
    }

    const Durations& d_;
    double scale_;
    Rng rng_;
};

struct Phases {
    std::optional<Timestamp> building, build_end, deploying, deploy_end;
    bool build_failed = false;
    bool deploy_failed = false;
    std::vector<Timestamp> successes;
    std::vector<Timestamp> crashes;
    std::optional<Timestamp> sleeping, removing;
};

Phases PhasesOf(const std::vector<TimelineEntry>& timeline) {
    Phases p;
    for (std::size_t i = 0; i < timeline.size(); ++i) {
        const auto& e = timeline[i];
        const std::optional<Timestamp> next =
            i + 1 < timeline.size() ? std::optional<Timestamp>(timeline[i + 1].at) : std::nullopt;
        switch (e.status) {
            case DeploymentStatus::kBuilding:
                if (!p.building) {
                    p.building = e.at;
                    p.build_end = next;
                    p.build_failed = next && timeline[i + 1].status == DeploymentStatus::kFailed;
                }
                break;
            case DeploymentStatus::kDeploying:
                if (!p.deploying) {
                    p.deploying = e.at;
                    p.deploy_end = next;
                    p.deploy_failed = next && timeline[i + 1].status == DeploymentStatus::kFailed;
                }
                break;
            case DeploymentStatus::kSuccess:
                p.successes.push_back(e.at);
                break;
            case DeploymentStatus::kCrashed:
                p.crashes.push_back(e.at);
                break;
            case DeploymentStatus::kSleeping:
                p.sleeping = e.at;
                break;
            case DeploymentStatus::kRemoving:
                p.removing = e.at;
                break;
            default:
                break;
        }
    }
    return p;
}

// A Python service's settings (pydantic) without the variable DATABASE_URL: the error, then the
// field it names and what is wrong with it on the lines after.
std::vector<std::string> PydanticLines() {
    return {"Traceback (most recent call last):",
            "  File \"/app/main.py\", line 4, in <module>",
            "    settings = Settings()",
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
            "database_url",
            "  Field required [type=missing, input_value={}, input_type=dict]",
            "    For further information visit https://errors.pydantic.dev/2.5/v/missing"};
}

// Long log lines are split over adjacent literals on purpose (each is one line of the list).
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
std::vector<std::string> BuildFailureLines(Reason reason) {
    switch (reason) {
        case Reason::kOom:
            return {"<--- Last few GCs --->",
                    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                    "ERROR: failed to solve: process \"/bin/bash -ol pipefail -c npm run build\" did not complete "
                    "successfully: exit code: 137",
                    "Error: Docker build failed"};
        case Reason::kMissingEnv:
            return {"Error: Missing required environment variable: NEXT_PUBLIC_API_URL",
                    "    at loadConfig (/app/scripts/check-env.js:9:11)",
                    "ERROR: failed to solve: process \"/bin/bash -ol pipefail -c npm run build\" did not complete "
                    "successfully: exit code: 1",
                    "Error: Docker build failed"};
        case Reason::kEtimedout:
            return {"npm ERR! code ETIMEDOUT",
                    "npm ERR! syscall connect",
                    "npm ERR! errno ETIMEDOUT",
                    "npm ERR! network request to https://registry.npmjs.org/express failed, reason: connect "
                    "ETIMEDOUT 104.16.3.35:443",
                    "ERROR: failed to solve: process \"/bin/bash -ol pipefail -c npm ci\" did not complete "
                    "successfully: exit code: 1",
                    "Error: Docker build failed"};
        case Reason::kPythonSettings: {
            // A build step that loads the settings (Django's collectstatic, a settings check).
            std::vector<std::string> lines = PydanticLines();
            lines.push_back(
                "ERROR: failed to solve: process \"/bin/bash -ol pipefail -c python manage.py "
                "collectstatic --noinput\" did not complete successfully: exit code: 1");
            lines.push_back("Error: Docker build failed");
            return lines;
        }
        case Reason::kNpmElifecycle:
        case Reason::kHealthcheck:
        case Reason::kNone:
            break;
    }
    return {"src/index.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.",
            "npm ERR! code ELIFECYCLE",
            "npm ERR! errno 2",
            "npm ERR! app@1.0.0 build: `tsc -p .`",
            "npm ERR! Exit status 2",
            "ERROR: failed to solve: process \"/bin/bash -ol pipefail -c npm run build\" did not complete "
            "successfully: exit code: 2",
            "Error: Docker build failed"};
}
// NOLINTEND(bugprone-suspicious-missing-comma)

std::vector<std::string> RuntimeFailureLines(Reason reason) {
    switch (reason) {
        case Reason::kMissingEnv:
            return {"Error: Missing required environment variable: DATABASE_URL",
                    "    at loadConfig (/app/dist/config.js:14:11)",
                    "    at Object.<anonymous> (/app/dist/index.js:3:16)", "Node.js v20.11.1"};
        case Reason::kOom:
            return {"<--- Last few GCs --->",
                    "[1:0x6b4f2a0]   301123 ms: Mark-Compact 509.8 (519.3) -> 508.9 (520.1) MB, 1021.45 / 0.00 ms  "
                    "(average mu = 0.112, current mu = 0.009) allocation failure",
                    "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
                    "Out of memory: Killed process 1 (node) total-vm:1848576kB, anon-rss:524288kB"};
        case Reason::kEtimedout:
            return {"Error: connect ETIMEDOUT 10.250.14.7:5432",
                    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1595:16) {",
                    "  errno: -110,",
                    "  code: 'ETIMEDOUT',",
                    "  syscall: 'connect'",
                    "}"};
        case Reason::kHealthcheck:
            return {"Error: request to http://localhost:8080/health timed out after 30000 ms",
                    "Healthcheck failed: the service stopped answering"};
        case Reason::kNpmElifecycle:
            return {"npm ERR! code ELIFECYCLE", "npm ERR! errno 1", "npm ERR! app@1.0.0 start: `node dist/index.js`",
                    "npm ERR! Exit status 1"};
        case Reason::kPythonSettings:
            return PydanticLines();
        case Reason::kNone:
            break;
    }
    return {"Error: the process exited with code 1"};
}

/// Appends lines spread evenly over [from, to), with seeded nanoseconds and strictly rising times.
void Spread(std::vector<LogLine>& out, const std::vector<std::pair<std::string, std::string>>& lines, Timestamp from,
            Timestamp to, Rng& rng) {
    if (lines.empty()) return;
    const Duration span = std::max(Duration(lines.size() + 1), to - from);
    const Duration step = span / static_cast<long long>(lines.size() + 1);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        Timestamp at = from + step * static_cast<long long>(i + 1) +
                       Duration(static_cast<long long>(
                           rng.Next() % static_cast<std::uint64_t>(std::max<long long>(1, step.count() / 2))));
        if (!out.empty() && at <= out.back().timestamp) at = out.back().timestamp + Duration(1);
        out.push_back({at, lines[i].first, lines[i].second});
    }
}

std::vector<std::pair<std::string, std::string>> Info(std::initializer_list<std::string> lines) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& l : lines)
        out.emplace_back("info", l);
    return out;
}

std::vector<std::pair<std::string, std::string>> Errors(const std::vector<std::string>& lines) {
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(lines.size());
    for (const auto& l : lines)
        out.emplace_back("error", l);
    return out;
}

std::string RetryWindow(Duration d) {
    const long long s = std::max<long long>(0, core::ToSeconds(d));
    return fmt::format("{}m{}s", s / 60, s % 60);
}

}  // namespace

std::string_view ToString(Kind kind) {
    switch (kind) {
        case Kind::kSuccess:
            return "success";
        case Kind::kBuildFailed:
            return "build_failed";
        case Kind::kDeployFailed:
            return "deploy_failed";
        case Kind::kCrashAfterSuccess:
            return "crash_after_success";
        case Kind::kCrashLoop:
            return "crash_loop";
        case Kind::kStuckInitializing:
            return "stuck_initializing";
        case Kind::kStuckDeploying:
            return "stuck_deploying";
        case Kind::kNeedsApproval:
            return "needs_approval";
        case Kind::kWaitingSkipped:
            return "waiting_skipped";
        case Kind::kRemoved:
            return "removed";
        case Kind::kSleeping:
            return "sleeping";
    }
    return "success";
}

std::optional<Kind> ParseKind(std::string_view text) {
    for (Kind k : kAllKinds)
        if (ToString(k) == text) return k;
    return std::nullopt;
}

std::string_view ToString(Reason reason) {
    switch (reason) {
        case Reason::kNone:
            return "";
        case Reason::kMissingEnv:
            return "missing_env";
        case Reason::kOom:
            return "oom";
        case Reason::kHealthcheck:
            return "healthcheck";
        case Reason::kEtimedout:
            return "etimedout";
        case Reason::kNpmElifecycle:
            return "npm_elifecycle";
        case Reason::kPythonSettings:
            return "python_settings";
    }
    return "";
}

std::optional<Reason> ParseReason(std::string_view text) {
    for (Reason r : kAllReasons)
        if (ToString(r) == text) return r;
    return std::nullopt;
}

Reason DefaultReason(Kind kind) {
    switch (kind) {
        case Kind::kBuildFailed:
            return Reason::kNpmElifecycle;
        case Kind::kDeployFailed:
            return Reason::kHealthcheck;
        case Kind::kCrashAfterSuccess:
            return Reason::kOom;
        case Kind::kCrashLoop:
            return Reason::kMissingEnv;
        default:
            return Reason::kNone;
    }
}

bool KindFails(Kind kind) {
    return kind == Kind::kBuildFailed || kind == Kind::kDeployFailed || kind == Kind::kCrashAfterSuccess ||
           kind == Kind::kCrashLoop;
}

core::DeploymentStatus EndStatus(Kind kind) {
    switch (kind) {
        case Kind::kSuccess:
            return DeploymentStatus::kSuccess;
        case Kind::kBuildFailed:
        case Kind::kDeployFailed:
            return DeploymentStatus::kFailed;
        case Kind::kCrashAfterSuccess:
        case Kind::kCrashLoop:
            return DeploymentStatus::kCrashed;
        case Kind::kStuckInitializing:
            return DeploymentStatus::kInitializing;
        case Kind::kStuckDeploying:
            return DeploymentStatus::kDeploying;
        case Kind::kNeedsApproval:
            return DeploymentStatus::kNeedsApproval;
        case Kind::kWaitingSkipped:
            return DeploymentStatus::kSkipped;
        case Kind::kRemoved:
            return DeploymentStatus::kRemoved;
        case Kind::kSleeping:
            return DeploymentStatus::kSleeping;
    }
    return DeploymentStatus::kSuccess;
}

std::vector<TimelineEntry> PlanTimeline(Kind kind, Reason reason, Timestamp created, const Durations& d,
                                        double time_scale, std::uint64_t seed) {
    Planner p(d, time_scale, seed);
    std::vector<TimelineEntry> out;
    Timestamp t = created;
    // Railway: INITIALIZING is the first state ("accepted into the build queue").
    p.Push(out, DeploymentStatus::kInitializing, t);
    if (kind == Kind::kStuckInitializing) return out;
    t += p.Span(d.initializing_s);
    if (kind == Kind::kNeedsApproval) {
        p.Push(out, DeploymentStatus::kNeedsApproval, t);
        return out;
    }
    if (kind == Kind::kWaitingSkipped) {
        p.Push(out, DeploymentStatus::kWaiting, t);
        t += p.Span(d.waiting_s);
        p.Push(out, DeploymentStatus::kSkipped, t);
        return out;
    }
    // Some deployments wait for a build slot.
    if (p.rng_.Uniform() < d.queued_fraction) {
        p.Push(out, DeploymentStatus::kQueued, t);
        t += p.Span(d.queued_s);
    }
    p.Push(out, DeploymentStatus::kBuilding, t);
    if (kind == Kind::kBuildFailed) {
        t += p.Span(d.building_s * 0.6);
        p.Push(out, DeploymentStatus::kFailed, t);
        return out;
    }
    t += p.Span(d.building_s);
    p.Push(out, DeploymentStatus::kDeploying, t);
    if (kind == Kind::kStuckDeploying) return out;
    if (kind == Kind::kDeployFailed) {
        t += p.Span(reason == Reason::kHealthcheck ? d.healthcheck_timeout_s : d.deploying_s * 0.5);
        p.Push(out, DeploymentStatus::kFailed, t);
        return out;
    }
    t += p.Span(d.deploying_s);
    p.Push(out, DeploymentStatus::kSuccess, t);
    switch (kind) {
        case Kind::kCrashAfterSuccess:
            t += p.Span(d.crash_after_s);
            p.Push(out, DeploymentStatus::kCrashed, t);
            break;
        case Kind::kCrashLoop:
            for (int i = 0; i <= d.crash_loop_restarts; ++i) {
                t += p.Span(d.crash_loop_uptime_s);
                p.Push(out, DeploymentStatus::kCrashed, t);
                if (i == d.crash_loop_restarts) break;
                t += p.Span(d.restart_delay_s);
                p.Push(out, DeploymentStatus::kSuccess, t);
            }
            break;
        case Kind::kSleeping:
            t += p.Span(d.sleep_after_s);
            p.Push(out, DeploymentStatus::kSleeping, t);
            break;
        case Kind::kRemoved:
            t += p.Span(d.remove_after_s);
            p.Push(out, DeploymentStatus::kRemoving, t);
            t += p.Span(d.removing_s);
            p.Push(out, DeploymentStatus::kRemoved, t);
            break;
        default:
            break;
    }
    return out;
}

std::vector<TimelineEntry> PlanAfterApproval(Timestamp approved, const Durations& d, double time_scale,
                                             std::uint64_t seed) {
    // An approved deployment enters the build queue like a new one.
    return PlanTimeline(Kind::kSuccess, Reason::kNone, approved, d, time_scale, seed);
}

std::size_t EntryAt(const std::vector<TimelineEntry>& timeline, Timestamp now) {
    std::size_t index = 0;
    for (std::size_t i = 0; i < timeline.size(); ++i) {
        if (timeline[i].at <= now) {
            index = i;
        } else {
            break;
        }
    }
    return index;
}

core::DeploymentStatus StatusAt(const std::vector<TimelineEntry>& timeline, Timestamp now) {
    if (timeline.empty()) return DeploymentStatus::kInitializing;
    return timeline[EntryAt(timeline, now)].status;
}

std::vector<LogLine> BuildLogLines(const LifecycleFacts& f, Timestamp now) {
    std::vector<LogLine> out;
    const Phases p = PhasesOf(f.timeline);
    if (!p.building) return out;
    Rng rng(f.seed ^ 0xB1D0B1D0ULL);
    const Timestamp build_end = p.build_end.value_or(*p.building + std::chrono::seconds(60));
    auto lines = Info({"[Region: us-west1]", "==============", "Using Nixpacks",
                       "==============", fmt::format("context: {}", f.deployment_id.substr(0, 8)),
                       "#1 [internal] load build definition from Dockerfile", "#4 [stage-0  3/10] COPY . /app/.",
                       "#5 [stage-0  4/10] RUN npm ci", "#5 added 412 packages, and audited 413 packages in 9s",
                       "#6 [stage-0  5/10] RUN npm run build", "#6 > app@1.0.0 build", "#6 > tsc -p ."});
    if (p.build_failed) {
        for (auto& e : Errors(BuildFailureLines(f.reason)))
            lines.push_back(std::move(e));
    } else {
        for (auto& l : Info({"#7 [stage-0  6/10] RUN printf '\\nPATH=/app/node_modules/.bin:$PATH' >> /root/.profile",
                             "#8 exporting to image", "#8 naming to us-west1.registry.rlwy.net/" + f.deployment_id,
                             "#8 DONE 4.1s"}))
            lines.push_back(std::move(l));
        lines.emplace_back("info",
                           fmt::format("Build time: {:.2f} seconds", core::ToSecondsF(build_end - *p.building)));
    }
    Spread(out, lines, *p.building, build_end, rng);

    if (p.deploying) {
        const Timestamp deploy_end = p.deploy_end.value_or(*p.deploying + std::chrono::seconds(60));
        const Duration window = deploy_end - *p.deploying;
        std::vector<std::pair<std::string, std::string>> hc =
            Info({"====================", "Starting Healthcheck", "====================", "Path: /health",
                  fmt::format("Retry window: {}", RetryWindow(window))});
        if (p.deploy_failed || !p.deploy_end) {
            const int attempts = p.deploy_end ? 6 : 3;
            for (int i = 1; i <= attempts; ++i) {
                const Duration left = window - window * i / (attempts + 1);
                hc.emplace_back("info", fmt::format("Attempt #{} failed with service unavailable. Continuing to retry "
                                                    "for {}",
                                                    i, RetryWindow(left)));
            }
            if (p.deploy_end) {
                hc.emplace_back("error", "1/1 replicas never became healthy!");
                hc.emplace_back("error", "Healthcheck failed!");
            }
        } else {
            hc.emplace_back("info", "[1/1] Healthcheck succeeded!");
        }
        Spread(out, hc, *p.deploying, deploy_end, rng);
    }
    std::erase_if(out, [now](const LogLine& l) { return l.timestamp > now; });
    return out;
}

std::vector<LogLine> DeployLogLines(const LifecycleFacts& f, Timestamp now) {
    std::vector<LogLine> out;
    const Phases p = PhasesOf(f.timeline);
    if (!p.deploying) return out;
    Rng rng(f.seed ^ 0xDE9107ULL);
    const auto start_lines = Info({"Starting Container", "", "> app@1.0.0 start", "> node dist/index.js", ""});
    const Timestamp deploy_end = p.deploy_end.value_or(*p.deploying + std::chrono::seconds(60));
    const Duration deploy_span = deploy_end - *p.deploying;
    Spread(out, start_lines, *p.deploying, *p.deploying + deploy_span / 4, rng);
    if (p.deploy_failed) {
        auto lines = f.reason == Reason::kHealthcheck ? Info({"Server listening on http://localhost:3000"})
                                                      : Errors(RuntimeFailureLines(f.reason));
        Spread(out, lines, *p.deploying + deploy_span / 4, *p.deploying + deploy_span / 2, rng);
    } else if (!p.successes.empty()) {
        Spread(out, Info({"Connected to database", "Server listening on port 8080"}), *p.deploying + deploy_span / 2,
               deploy_end, rng);
    } else {
        Spread(out, Info({"Waiting for database migrations to finish..."}), *p.deploying + deploy_span / 2,
               *p.deploying + deploy_span, rng);
    }
    // Each crash leaves its reason's lines just before it; each restart starts the container again.
    for (std::size_t i = 0; i < p.crashes.size(); ++i) {
        const Timestamp crash = p.crashes[i];
        Spread(out, Info({"GET /api/orders 200 41ms"}), crash - std::chrono::milliseconds(50),
               crash - std::chrono::milliseconds(20), rng);
        Spread(out, Errors(RuntimeFailureLines(f.reason)), crash - std::chrono::milliseconds(20), crash, rng);
        for (Timestamp s : p.successes) {
            if (s > crash && (i + 1 >= p.crashes.size() || s < p.crashes[i + 1])) {
                auto restart = start_lines;
                restart.emplace_back("info", "Server listening on port 8080");
                Spread(out, restart, crash, s, rng);
            }
        }
    }
    if (p.sleeping)
        Spread(out, Info({"Stopping Container"}), *p.sleeping - std::chrono::milliseconds(5), *p.sleeping, rng);
    if (p.removing) {
        Spread(out, Info({"Stopping Container", "npm ERR! signal SIGTERM"}), *p.removing,
               *p.removing + std::chrono::milliseconds(5), rng);
    }
    std::sort(out.begin(), out.end(), [](const LogLine& a, const LogLine& b) { return a.timestamp < b.timestamp; });
    for (std::size_t i = 1; i < out.size(); ++i)
        if (out[i].timestamp <= out[i - 1].timestamp) out[i].timestamp = out[i - 1].timestamp + Duration(1);
    std::erase_if(out, [now](const LogLine& l) { return l.timestamp > now; });
    return out;
}

std::vector<EventStep> EventSteps(const LifecycleFacts& f, Timestamp now) {
    std::vector<EventStep> out;
    const Phases p = PhasesOf(f.timeline);
    int n = 0;
    auto add = [&](std::string step, Timestamp created, std::optional<Timestamp> completed) -> EventStep* {
        if (created > now) return nullptr;
        EventStep e;
        e.id = fmt::format("{}-{}", f.deployment_id, n++);
        e.step = std::move(step);
        e.created_at = created;
        if (completed && *completed <= now) {
            e.completed_at = completed;
            e.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*completed - created).count();
        }
        out.push_back(std::move(e));
        return &out.back();
    };
    if (!p.building) return out;
    // SNAPSHOT_CODE runs while INITIALIZING.
    Timestamp init_at = *p.building;
    for (const auto& e : f.timeline)
        if (e.status == DeploymentStatus::kInitializing) init_at = e.at;
    add("SNAPSHOT_CODE", init_at, *p.building);
    const Timestamp build_end = p.build_end.value_or(Timestamp::max());
    if (EventStep* e = add("BUILD_IMAGE", *p.building, p.build_end);
        e != nullptr && p.build_failed && e->completed_at) {
        const auto lines = BuildFailureLines(f.reason);
        e->error = lines.size() >= 2 ? lines[lines.size() - 2] : lines.front();
    }
    if (!p.deploying) return out;
    const Duration publish = std::min<Duration>(std::chrono::seconds(2), (build_end - *p.building) / 10);
    add("PUBLISH_IMAGE", *p.deploying - publish, *p.deploying);
    const Timestamp deploy_end = p.deploy_end.value_or(Timestamp::max());
    const Duration span = p.deploy_end ? (deploy_end - *p.deploying) : std::chrono::hours(1);
    const Timestamp container_done = *p.deploying + span / 10;
    add("CREATE_CONTAINER", *p.deploying, container_done);
    if (EventStep* e = add("HEALTHCHECK", container_done, p.deploy_end); e != nullptr) {
        e->max_attempts = 6;
        if (p.deploy_failed) {
            e->attempt = e->completed_at ? 6 : 3;
            if (e->completed_at) e->error = "1/1 replicas never became healthy!";
        } else {
            e->attempt = 1;
        }
    }
    if (!p.successes.empty()) add("DRAIN_INSTANCES", p.successes.front(), p.successes.front() + span / 20);
    return out;
}

}  // namespace railwatch::sim
