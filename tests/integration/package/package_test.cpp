#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/ready_line.hpp"
#include "support/sim_process.hpp"
#include "support/temp_dir.hpp"

// The Debian package as an operator gets it: built by CPack from this build tree (the binary and
// man page already built; nothing else), inspected with dpkg-deb, installed with dpkg into a
// throw-away root (its own admin directory: the machine's packages and users are not touched),
// the installed binary run on the installed config, the unit checked by systemd-analyze, then
// purged.
namespace railwatch {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// Runs a command; the test fails (with the output) when it does not exit 0.
test::CommandResult MustRun(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = 120s) {
    test::CommandResult result = test::RunCommand(argv, timeout);
    std::string line;
    for (const std::string& arg : argv)
        line += arg + " ";
    EXPECT_TRUE(result.status.exited && result.status.code == 0) << line << "\n" << result.output;
    return result;
}

bool Contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class PackageTest : public ::testing::Test {
  protected:
    /// Builds the .deb once for the suite (cpack into a directory of its own, so a concurrent
    /// `make package` and this test do not share CPack's staging area).
    static void SetUpTestSuite() {
        out_ = new test::TempDir("railwatch-package-it-");
        const test::CommandResult built =
            test::RunCommand({RAILWATCH_CPACK, "-G", "DEB", "--config",
                              std::string(RAILWATCH_BUILD_DIR) + "/CPackConfig.cmake", "-B", out_->File("deb")},
                             300s);
        cpack_output_ = new std::string(built.output);
        std::error_code error;
        for (const auto& entry : fs::directory_iterator(out_->File("deb"), error))
            if (entry.path().extension() == ".deb") deb_ = new std::string(entry.path().string());
    }
    static void TearDownTestSuite() {
        delete out_;
        delete cpack_output_;
        delete deb_;
    }
    void SetUp() override { ASSERT_NE(deb_, nullptr) << "cpack made no .deb:\n" << *cpack_output_; }

    static test::TempDir* out_;
    static std::string* cpack_output_;
    static std::string* deb_;
};

test::TempDir* PackageTest::out_ = nullptr;
std::string* PackageTest::cpack_output_ = nullptr;
std::string* PackageTest::deb_ = nullptr;

TEST_F(PackageTest, HoldsTheBinaryUnitConfigAndManPageWithDependsThisSystemSatisfies) {
    const std::string contents = MustRun({"dpkg-deb", "-c", *deb_}).output;
    for (const char* path :
         {"./usr/bin/railwatch", "./usr/lib/systemd/system/railwatch.service", "./etc/railwatch/railwatch.toml",
          "./etc/default/railwatch", "./usr/share/man/man1/railwatch.1.gz", "./usr/share/doc/railwatch/openapi.yaml"})
        EXPECT_TRUE(Contains(contents, path)) << path << " is missing:\n" << contents;
    // Tokens go into /etc/default/railwatch: root only.
    EXPECT_TRUE(std::regex_search(
        contents, std::regex(R"(-rw------- root/root +[0-9]+ [-0-9]+ [:0-9]+ \./etc/default/railwatch)")))
        << contents;
    // The package holds what it packages, no test or benchmark programs.
    EXPECT_FALSE(std::regex_search(contents, std::regex(R"(/(it|unit|bench)_[a-z_]+\n)"))) << contents;

    const std::string info = MustRun({"dpkg-deb", "-I", *deb_}).output;
    EXPECT_TRUE(Contains(info, "Package: railwatch")) << info;
    EXPECT_TRUE(Contains(info, "conffiles")) << info;
    EXPECT_TRUE(Contains(info, "postinst")) << info;
    EXPECT_EQ(MustRun({"dpkg-deb", "-f", *deb_, "Version"}).output, std::string(RAILWATCH_VERSION) + "\n");
    const std::string conffiles = MustRun({"dpkg-deb", "--info", *deb_, "conffiles"}).output;
    EXPECT_TRUE(Contains(conffiles, "/etc/railwatch/railwatch.toml")) << conffiles;
    EXPECT_TRUE(Contains(conffiles, "/etc/default/railwatch")) << conffiles;

    // Depends (from dpkg-shlibdeps, plus adduser) are met on this system, which the binary was
    // built on: apt, simulating only (nothing is installed), would install railwatch alone.
    // Virtual packages (libspdlog1.10-fmt9 is provided by libspdlog1.10) are resolved as apt does.
    const std::string depends = MustRun({"dpkg-deb", "-f", *deb_, "Depends"}).output;
    EXPECT_TRUE(Contains(depends, "libc6")) << depends;
    EXPECT_TRUE(Contains(depends, "libstdc++6")) << depends;
    EXPECT_TRUE(Contains(depends, "adduser")) << depends;
    const std::string plan =
        MustRun({"apt-get", "--simulate", "--no-install-recommends", "install", *deb_}, 300s).output;
    EXPECT_TRUE(Contains(plan, "Inst railwatch ")) << plan;
    EXPECT_FALSE(std::regex_search(plan, std::regex(R"((^|\n)Inst (?!railwatch ))"))) << "dependencies missing:\n"
                                                                                      << plan;

    // The man page says what --help says: every subcommand of the installed binary has a section.
    const std::string page =
        MustRun({"sh", "-c",
                 "dpkg-deb --fsys-tarfile '" + *deb_ + "' | tar -xOf - ./usr/share/man/man1/railwatch.1.gz | gzip -dc"})
            .output;
    const std::string help = MustRun({RAILWATCH_BINARY, "--help"}).output;
    const std::regex subcommand(R"(\n  ([a-z][a-z-]*) {2,})");
    int sections = 0;
    for (auto it = std::sregex_iterator(help.begin(), help.end(), subcommand); it != std::sregex_iterator(); ++it) {
        EXPECT_TRUE(Contains(page, ".SS \"railwatch " + (*it)[1].str() + "\"")) << (*it)[1] << " has no section";
        ++sections;
    }
    EXPECT_GE(sections, 5) << help;
    EXPECT_TRUE(Contains(page, ".TH RAILWATCH 1")) << page;
}

TEST_F(PackageTest, InstallsIntoAThrowAwayRootRunsAndPurges) {
    test::TempDir root_dir("railwatch-package-root-");
    const std::string root = root_dir.path().string();
    // A root of its own: dpkg's database, and minimal account files for useradd to add the
    // service user to (the postinst writes the root's /etc/passwd, never the machine's).
    fs::create_directories(root + "/var/lib/dpkg/info");
    fs::create_directories(root + "/var/lib/dpkg/updates");
    std::ofstream(root + "/var/lib/dpkg/status");  // NOLINT(bugprone-unused-raii): creates the empty file
    fs::create_directories(root + "/etc");
    std::ofstream(root + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    std::ofstream(root + "/etc/group") << "root:x:0:\n";
    std::ofstream(root + "/etc/shadow") << "root:*:19000:0:99999:7:::\n";
    std::ofstream(root + "/etc/gshadow") << "root:*::\n";
    fs::copy_file("/etc/login.defs", root + "/etc/login.defs");
    const std::string host_passwd = test::ReadWholeFile("/etc/passwd");

    // Dependencies are checked above against this system; the empty root has none of them.
    const std::vector<std::string> dpkg{"dpkg", "--root=" + root, "--force-script-chrootless", "--force-depends",
                                        "--log=/dev/null"};
    std::vector<std::string> install = dpkg;
    install.insert(install.end(), {"-i", *deb_});
    MustRun(install);
    EXPECT_TRUE(Contains(test::ReadWholeFile(root + "/var/lib/dpkg/status"), "Status: install ok installed"));
    EXPECT_TRUE(
        std::regex_search(test::ReadWholeFile(root + "/etc/passwd"),
                          std::regex("(^|\n)railwatch:x:[0-9]+:[0-9]+:[^:]*:/var/lib/railwatch:/usr/sbin/nologin\n")))
        << "the postinst did not add the system user railwatch";
    EXPECT_EQ(test::ReadWholeFile("/etc/passwd"), host_passwd) << "the machine's users changed";

    // The installed binary and its installed default config.
    const std::string binary = root + "/usr/bin/railwatch";
    const std::string config = root + "/etc/railwatch/railwatch.toml";
    const test::CommandResult version = MustRun({binary, "version"});
    EXPECT_EQ(version.output, MustRun({RAILWATCH_BINARY, "version"}).output);
    const test::CommandResult checked =
        MustRun({"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", binary, "config", "check", config});
    EXPECT_TRUE(Contains(checked.output, "sqlite:/var/lib/railwatch/railwatch.db")) << checked.output;
    EXPECT_TRUE(Contains(checked.output, "127.0.0.1:8080")) << checked.output;

    // serve on the installed config, briefly, with the database in a temp dir, a free port and the
    // simulator as Railway (never the real API from a test).
    test::SimProcess sim({});
    ASSERT_GT(sim.port(), 0) << sim.Log();
    const std::string log = root_dir.File("serve.log");
    test::ChildProcess serve = test::ChildProcess::Spawn(
        {"/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "RAILWAY_API_TOKEN=sim-account-token", binary, "serve", "--config",
         config, "--db", "sqlite:" + root_dir.File("railwatch.db"), "--listen", "127.0.0.1:0", "--railway-url",
         sim.GraphqlUrl()},
        log);
    int port = 0;
    const std::regex ready("railwatch listening on http://127\\.0\\.0\\.1:([0-9]+)");
    for (const auto deadline = std::chrono::steady_clock::now() + 60s;
         port == 0 && serve.running() && std::chrono::steady_clock::now() < deadline;) {
        std::smatch m;
        const std::string text = test::ReadWholeFile(log);
        if (std::regex_search(text, m, ready)) {
            port = std::stoi(m[1]);
        } else {
            std::this_thread::sleep_for(20ms);
        }
    }
    ASSERT_GT(port, 0) << test::ReadWholeFile(log);
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(30s);
    const auto healthz = client.Get("/healthz");
    ASSERT_TRUE(healthz) << test::ReadWholeFile(log);
    EXPECT_EQ(healthz->status, 200);
    EXPECT_EQ(healthz->body, R"({"ok":true})");
    serve.Signal(SIGTERM);
    const test::ExitStatus stopped = serve.Wait(30s);
    EXPECT_TRUE(stopped.exited && stopped.code == 0) << test::ReadWholeFile(log);

    // The unit, as systemd reads it under this root (its ExecStart resolved there). The root gets
    // the machine's own units (targets the unit refers to). verify exits 0 even for unknown keys
    // or bad values (it warns and ignores them), so any output at all is a failure.
    fs::copy(RAILWATCH_SYSTEMD_UNIT_DIR, root + "/usr/lib/systemd/system",
             fs::copy_options::recursive | fs::copy_options::skip_existing | fs::copy_options::copy_symlinks);
    const test::CommandResult verify =
        MustRun({RAILWATCH_SYSTEMD_ANALYZE, "verify", "--root=" + root, "--man=no", "railwatch.service"});
    EXPECT_EQ(verify.output, "") << "systemd-analyze verify warned";
    // The hardening stays where it is: systemd's own exposure score (0 best .. 10), offline.
    MustRun({RAILWATCH_SYSTEMD_ANALYZE, "security", "--offline=true", "--root=" + root, "--man=no", "--threshold=20",
             "railwatch.service"});
    // Documentation=man:railwatch(1) resolves to the installed page.
    const test::CommandResult man =
        MustRun({"/usr/bin/env", "MANWIDTH=100", "man", "-M", root + "/usr/share/man", "railwatch"});
    EXPECT_TRUE(Contains(man.output, "railwatch serve")) << man.output;

    std::vector<std::string> purge = dpkg;
    purge.insert(purge.end(), {"--purge", "railwatch"});
    MustRun(purge);
    EXPECT_FALSE(fs::exists(binary));
    EXPECT_FALSE(fs::exists(config)) << "purge keeps conffiles";
    EXPECT_FALSE(fs::exists(root + "/usr/lib/systemd/system/railwatch.service"));
}

}  // namespace
}  // namespace railwatch
