// SIGTERM / SIGINT against a real process: a forked child runs components under a Lifecycle and
// ShutdownSignals, the test signals it and checks how it ended.
#include "app/signals.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "app/lifecycle.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "util/clock.hpp"

namespace railwatch::app {
namespace {

using namespace std::chrono_literals;

void Append(const std::string& file, const std::string& line) {
    std::ofstream(file, std::ios::app) << line << "\n" << std::flush;
}

std::string Read(const std::string& file) {
    std::ifstream in(file);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// Waits (real time, bounded) until `file` contains `text`.
bool AwaitText(const std::string& file, const std::string& text, std::chrono::seconds limit = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (Read(file).find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

// The child: three components, each with a thread that waits on the stop wakeup; the main thread
// waits for a signal, then stops them in reverse order. `hang_on_stop` makes the last stop block
// forever (for the second-signal test).
int ServiceMain(const std::string& log, bool hang_on_stop) {
    util::Wakeup stop;
    ShutdownSignals signals(stop, [&log](int signal, int count) {
        Append(log, "signal " + std::to_string(signal) + " #" + std::to_string(count));
    });
    util::SystemClock clock;
    Lifecycle life;
    std::vector<std::thread> threads(3);
    for (int i = 0; i < 3; ++i) {
        const std::string name = std::string(1, static_cast<char>('a' + i));
        life.Add(
            name,
            [&, i, name]() -> util::Result<void> {
                // A worker like the scheduler's: it waits on the clock until told to stop.
                threads[static_cast<std::size_t>(i)] = std::thread([&clock, &stop] {
                    while (clock.WaitFor(std::chrono::hours(1), stop) != util::WakeReason::kStopped) {
                    }
                });
                Append(log, "start " + name);
                return util::Ok();
            },
            [&, i, name, hang_on_stop] {
                if (hang_on_stop && name == "c") {
                    Append(log, "hanging in stop c");
                    while (true)
                        std::this_thread::sleep_for(1s);
                }
                threads[static_cast<std::size_t>(i)].join();
                Append(log, "stop " + name);
            });
    }
    if (!life.Start()) return 1;
    Append(log, "ready");
    while (clock.WaitFor(std::chrono::hours(1), stop) != util::WakeReason::kStopped) {
    }
    life.Stop();
    Append(log, "exit after signal " + std::to_string(signals.received()));
    return 0;
}

TEST(ShutdownSignals, SigtermStopsTheComponentsInReverseOrderAndExitsZero) {
    test::TempDir dir;
    const std::string log = dir.File("log");
    auto child = test::ChildProcess::Fork([&] { return ServiceMain(log, false); });
    ASSERT_TRUE(AwaitText(log, "ready")) << Read(log);
    child.Signal(SIGTERM);
    const auto status = child.Wait(30s);
    EXPECT_TRUE(status.Ok()) << status.Describe() << "\n" << Read(log);
    EXPECT_EQ(Read(log),
              "start a\nstart b\nstart c\nready\nsignal 15 #1\nstop c\nstop b\nstop a\n"
              "exit after signal 15\n");
}

TEST(ShutdownSignals, SigintStopsCleanlyToo) {
    test::TempDir dir;
    const std::string log = dir.File("log");
    auto child = test::ChildProcess::Fork([&] { return ServiceMain(log, false); });
    ASSERT_TRUE(AwaitText(log, "ready")) << Read(log);
    child.Signal(SIGINT);
    const auto status = child.Wait(30s);
    EXPECT_TRUE(status.Ok()) << status.Describe() << "\n" << Read(log);
    EXPECT_THAT(Read(log), ::testing::HasSubstr("stop c\nstop b\nstop a\nexit after signal 2\n"));
}

TEST(ShutdownSignals, ASecondSignalDuringAHangingStopForcesExit128PlusSignal) {
    test::TempDir dir;
    const std::string log = dir.File("log");
    auto child = test::ChildProcess::Fork([&] { return ServiceMain(log, true); });
    ASSERT_TRUE(AwaitText(log, "ready")) << Read(log);
    child.Signal(SIGTERM);
    ASSERT_TRUE(AwaitText(log, "hanging in stop c")) << Read(log);
    child.Signal(SIGTERM);
    const auto status = child.Wait(30s);
    EXPECT_TRUE(status.exited) << status.Describe();
    EXPECT_EQ(status.code, ForcedExitCode(SIGTERM));
    EXPECT_EQ(status.code, 143);
    EXPECT_THAT(Read(log), ::testing::HasSubstr("signal 15 #2"));
}

}  // namespace
}  // namespace railwatch::app
