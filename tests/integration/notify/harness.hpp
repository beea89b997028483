#pragma once

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/notify_event.hpp"
#include "notify/channel.hpp"
#include "store/model.hpp"

/// What the channel conformance suite needs from each channel: the channel itself wired to a real
/// receiver, rows for it, ways to make the receiver fail, and a view of what the receiver holds.
namespace railwatch::notify::test {

class ChannelHarness {
  public:
    virtual ~ChannelHarness() = default;

    virtual Channel& channel() = 0;
    /// A row delivering `event` to the receiver's normal recipient.
    virtual store::OutboxRow Row(const core::NotifyEvent& event) = 0;
    /// A row the receiver refuses for good (an address it rejects, a user that does not exist, …).
    virtual store::OutboxRow RefusedRow(const core::NotifyEvent& event) = 0;
    /// Makes the receiver fail the way it does when it is down or overloaded; Recover undoes it.
    virtual void FailTransiently() = 0;
    virtual void Recover() = 0;
    /// For a row that was refused for good: make the receiver refuse it (webhook: answer 410).
    virtual void RefuseNext() {}
    /// How many copies of `row` the receiver accepted: messages carrying the row's identity
    /// (webhook-id, Message-ID, inbox id), which must be the same on every attempt.
    virtual int CopiesReceived(const store::OutboxRow& row) = 0;
    /// Everything the receiver accepted, whatever its identity.
    virtual int TotalReceived() = 0;
    /// Texts that must never appear in a delivery's detail (passwords, secrets, secret URL parts).
    virtual std::vector<std::string> Secrets() const = 0;
    /// What a detail names so that a person knows which receiver it was about.
    virtual std::string ReceiverName() const = 0;
};

/// A named factory, one per channel configuration under test.
struct HarnessFactory {
    std::string name;
    std::function<std::unique_ptr<ChannelHarness>()> make;
};

inline void PrintTo(const HarnessFactory& factory, std::ostream* os) {
    *os << factory.name;
}

}  // namespace railwatch::notify::test
