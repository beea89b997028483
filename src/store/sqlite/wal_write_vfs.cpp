#include "store/sqlite/wal_write_vfs.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace railwatch::store::sqlite {
namespace {

constexpr const char* kVfsName = "railwatch-wal";
// A WAL frame's header (walWriteOneFrame writes it, then the page, as two writes).
constexpr int kFrameHeader = 24;
// Gathered bytes are written at once beyond this (a transaction that spills its cache).
constexpr std::size_t kMaxGathered = 8u << 20;
// The most the default VFS writes with one call: the unix one keeps only the low 17 bits of a
// write's size (seekAndWriteFd: `nBuf &= 0x1ffff`), so a larger write would be cut short and
// reported as a full disk. 31 pages of 4 KiB.
constexpr std::size_t kMostPerWrite = std::size_t{31} * 4096;

sqlite3_vfs* Real(sqlite3_vfs* vfs) {
    return static_cast<sqlite3_vfs*>(vfs->pAppData);
}

// The WAL file: our methods in front, the default VFS's file right behind (szOsFile covers both).
struct WalFile {
    sqlite3_file base{};  // first: SQLite reads pMethods from here (null until the real file is open)
    sqlite3_file* real = nullptr;
    std::vector<char> gathered;  // bytes for [gathered_at, gathered_at + size)
    sqlite3_int64 gathered_at = 0;
    bool commit_header = false;  // the last write was a commit frame's header: its page completes it
};

WalFile& Wal(sqlite3_file* file) {
    return *reinterpret_cast<WalFile*>(file);
}

int Flush(WalFile& wal) {
    if (wal.gathered.empty()) return SQLITE_OK;
    int rc = SQLITE_OK;
    for (std::size_t from = 0; from < wal.gathered.size() && rc == SQLITE_OK; from += kMostPerWrite) {
        const std::size_t amount = std::min(kMostPerWrite, wal.gathered.size() - from);
        rc = wal.real->pMethods->xWrite(wal.real, wal.gathered.data() + from, static_cast<int>(amount),
                                        wal.gathered_at + static_cast<sqlite3_int64>(from));
    }
    // Written or not, these bytes are done with: on a failure SQLite fails the transaction they
    // belong to (every gathered byte is of the transaction not yet committed).
    wal.gathered.clear();
    wal.commit_header = false;
    return rc;
}

int Close(sqlite3_file* file) {
    WalFile& wal = Wal(file);
    const int flushed = Flush(wal);
    const int closed = wal.real->pMethods->xClose(wal.real);
    wal.~WalFile();
    return flushed != SQLITE_OK ? flushed : closed;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
    WalFile& wal = Wal(file);
    if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    return wal.real->pMethods->xRead(wal.real, out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    WalFile& wal = Wal(file);
    if (!wal.gathered.empty() && offset != wal.gathered_at + static_cast<sqlite3_int64>(wal.gathered.size())) {
        if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    }
    if (wal.gathered.empty()) wal.gathered_at = offset;
    const auto* bytes = static_cast<const char*>(data);
    wal.gathered.insert(wal.gathered.end(), bytes, bytes + amount);
    if (amount == kFrameHeader) {
        // Bytes 4..7 of a frame header: the database size after a commit, 0 in other frames.
        std::uint32_t commit_size = 0;
        std::memcpy(&commit_size, bytes + 4, sizeof(commit_size));
        wal.commit_header = commit_size != 0;
        return SQLITE_OK;
    }
    if (wal.commit_header || wal.gathered.size() >= kMaxGathered) return Flush(wal);
    return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
    WalFile& wal = Wal(file);
    if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    return wal.real->pMethods->xTruncate(wal.real, size);
}

int Sync(sqlite3_file* file, int flags) {
    WalFile& wal = Wal(file);
    if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    return wal.real->pMethods->xSync(wal.real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
    WalFile& wal = Wal(file);
    if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    return wal.real->pMethods->xFileSize(wal.real, size);
}

int Lock(sqlite3_file* file, int level) {
    WalFile& wal = Wal(file);
    if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    return wal.real->pMethods->xLock(wal.real, level);
}

int Unlock(sqlite3_file* file, int level) {
    WalFile& wal = Wal(file);
    if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    return wal.real->pMethods->xUnlock(wal.real, level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
    WalFile& wal = Wal(file);
    return wal.real->pMethods->xCheckReservedLock(wal.real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
    WalFile& wal = Wal(file);
    if (const int rc = Flush(wal); rc != SQLITE_OK) return rc;
    return wal.real->pMethods->xFileControl(wal.real, op, arg);
}

int SectorSize(sqlite3_file* file) {
    WalFile& wal = Wal(file);
    return wal.real->pMethods->xSectorSize(wal.real);
}

int DeviceCharacteristics(sqlite3_file* file) {
    WalFile& wal = Wal(file);
    return wal.real->pMethods->xDeviceCharacteristics(wal.real);
}

// Version 1: SQLite uses shared memory and memory-mapped reads on the database file only, which
// keeps the default VFS's own methods.
const sqlite3_io_methods kWalMethods = {
    1,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    nullptr,  // xShmMap
    nullptr,  // xShmLock
    nullptr,  // xShmBarrier
    nullptr,  // xShmUnmap
    nullptr,  // xFetch
    nullptr,  // xUnfetch
};

// A journal's memory: `capacity` bytes at `bytes`.
struct Buffer {
    std::unique_ptr<char[]> bytes;
    std::size_t capacity = 0;
};

// A statement journal (SQLITE_OPEN_SUBJOURNAL): the original of each page a savepoint or a
// statement changes, read back only to undo it. Held in memory, in one buffer that grows by
// doubling and, when the journal closes (at each transaction's end), is kept for the thread's
// next journal: SQLite's own in-memory journal (temp_store = MEMORY) allocated and freed it
// 1 KiB at a time, four allocations and a memory barrier (sqlite3_malloc) per page copied.
struct SubJournal {
    sqlite3_file base{};  // first, as WalFile's
    Buffer buffer;
    std::size_t size = 0;  // bytes written: [0, size) of the buffer
};

// The most a closed journal's buffer keeps for the next one (a transaction that changed 4,096
// pages of 4 KiB): a larger one is freed.
constexpr std::size_t kKeptJournalBytes = 16u << 20;

// A thread's buffer between its journals (a connection is used by one thread at a time).
thread_local Buffer t_spare;

std::atomic<std::uint64_t> g_journals_opened{0};

SubJournal& Journal(sqlite3_file* file) {
    return *reinterpret_cast<SubJournal*>(file);
}

int JournalClose(sqlite3_file* file) {
    SubJournal& j = Journal(file);
    if (j.buffer.capacity <= kKeptJournalBytes && j.buffer.capacity > t_spare.capacity) t_spare = std::move(j.buffer);
    j.~SubJournal();
    return SQLITE_OK;
}

int JournalRead(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
    const SubJournal& j = Journal(file);
    const auto want = static_cast<std::size_t>(amount);
    const auto from = static_cast<std::size_t>(offset);
    const std::size_t have = from < j.size ? std::min(want, j.size - from) : 0;
    if (have > 0) std::memcpy(out, j.buffer.bytes.get() + from, have);
    if (have == want) return SQLITE_OK;
    std::memset(static_cast<char*>(out) + have, 0, want - have);  // as every VFS must
    return SQLITE_IOERR_SHORT_READ;
}

int JournalWrite(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
    SubJournal& j = Journal(file);
    const auto from = static_cast<std::size_t>(offset);
    const std::size_t end = from + static_cast<std::size_t>(amount);
    if (end > j.buffer.capacity) {
        Buffer grown{nullptr, std::max<std::size_t>(j.buffer.capacity, 64u << 10)};
        while (grown.capacity < end)
            grown.capacity *= 2;
        grown.bytes.reset(new (std::nothrow) char[grown.capacity]);
        if (!grown.bytes) return SQLITE_IOERR_NOMEM;
        if (j.size > 0) std::memcpy(grown.bytes.get(), j.buffer.bytes.get(), j.size);
        j.buffer = std::move(grown);
    }
    char* const bytes = j.buffer.bytes.get();
    if (from > j.size) std::memset(bytes + j.size, 0, from - j.size);
    std::memcpy(bytes + from, data, static_cast<std::size_t>(amount));
    j.size = std::max(j.size, end);
    return SQLITE_OK;
}

int JournalTruncate(sqlite3_file* file, sqlite3_int64 size) {
    SubJournal& j = Journal(file);
    j.size = std::min(j.size, static_cast<std::size_t>(size));
    return SQLITE_OK;
}

int JournalSync(sqlite3_file*, int) {
    return SQLITE_OK;
}

int JournalFileSize(sqlite3_file* file, sqlite3_int64* size) {
    *size = static_cast<sqlite3_int64>(Journal(file).size);
    return SQLITE_OK;
}

int JournalLock(sqlite3_file*, int) {
    return SQLITE_OK;
}

int JournalCheckReservedLock(sqlite3_file*, int* out) {
    *out = 0;
    return SQLITE_OK;
}

int JournalFileControl(sqlite3_file*, int, void*) {
    return SQLITE_NOTFOUND;
}

int JournalSectorSize(sqlite3_file*) {
    return 0;
}

int JournalDeviceCharacteristics(sqlite3_file*) {
    return 0;
}

const sqlite3_io_methods kJournalMethods = {
    1,
    JournalClose,
    JournalRead,
    JournalWrite,
    JournalTruncate,
    JournalSync,
    JournalFileSize,
    JournalLock,
    JournalLock,  // xUnlock
    JournalCheckReservedLock,
    JournalFileControl,
    JournalSectorSize,
    JournalDeviceCharacteristics,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

int OpenJournal(sqlite3_file* file, int flags, int* out_flags) {
    auto* j = new (file) SubJournal();
    j->buffer = std::exchange(t_spare, Buffer{});
    j->base.pMethods = &kJournalMethods;
    if (out_flags != nullptr) *out_flags = flags;
    g_journals_opened.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
}

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
    sqlite3_vfs* real = Real(vfs);
    if ((flags & SQLITE_OPEN_SUBJOURNAL) != 0) return OpenJournal(file, flags, out_flags);
    if ((flags & SQLITE_OPEN_WAL) == 0) return real->xOpen(real, name, file, flags, out_flags);
    // base.pMethods stays null until the real file is open: SQLite closes only what was opened.
    auto* wal = new (file) WalFile();
    wal->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + sizeof(WalFile));
    const int rc = real->xOpen(real, name, wal->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        wal->~WalFile();
        file->pMethods = nullptr;
        return rc;
    }
    wal->base.pMethods = &kWalMethods;
    return SQLITE_OK;
}

// The rest is the default VFS's (each gets that VFS, which keeps its own state in pAppData).
int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
    return Real(vfs)->xDelete(Real(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
    return Real(vfs)->xAccess(Real(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int size, char* out) {
    return Real(vfs)->xFullPathname(Real(vfs), name, size, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) {
    return Real(vfs)->xDlOpen(Real(vfs), name);
}
void DlError(sqlite3_vfs* vfs, int size, char* out) {
    Real(vfs)->xDlError(Real(vfs), size, out);
}
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
    return Real(vfs)->xDlSym(Real(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) {
    Real(vfs)->xDlClose(Real(vfs), handle);
}
int Randomness(sqlite3_vfs* vfs, int size, char* out) {
    return Real(vfs)->xRandomness(Real(vfs), size, out);
}
int Sleep(sqlite3_vfs* vfs, int microseconds) {
    return Real(vfs)->xSleep(Real(vfs), microseconds);
}
int CurrentTime(sqlite3_vfs* vfs, double* out) {
    return Real(vfs)->xCurrentTime(Real(vfs), out);
}
int GetLastError(sqlite3_vfs* vfs, int size, char* out) {
    return Real(vfs)->xGetLastError(Real(vfs), size, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
    return Real(vfs)->xCurrentTimeInt64(Real(vfs), out);
}

sqlite3_vfs g_vfs{};
std::once_flag g_once;
int g_registered = SQLITE_ERROR;

}  // namespace

util::Result<std::string> WalWriteVfs() {
    std::call_once(g_once, [] {
        // Statement journals straight to the VFS (SubJournal), not first into SQLite's 64 KiB
        // in-memory one: only before SQLite initialises (sqlite3_vfs_find below does); later it
        // fails and SQLite's journal spills into SubJournal past 64 KiB instead, still in memory.
        (void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, 0);
        sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
        if (real == nullptr || real->iVersion < 2) return;
        g_vfs.iVersion = 2;
        static_assert(sizeof(SubJournal) <= sizeof(WalFile));
        g_vfs.szOsFile = static_cast<int>(sizeof(WalFile)) + real->szOsFile;
        g_vfs.mxPathname = real->mxPathname;
        g_vfs.zName = kVfsName;
        g_vfs.pAppData = real;
        g_vfs.xOpen = Open;
        g_vfs.xDelete = Delete;
        g_vfs.xAccess = Access;
        g_vfs.xFullPathname = FullPathname;
        g_vfs.xDlOpen = DlOpen;
        g_vfs.xDlError = DlError;
        g_vfs.xDlSym = DlSym;
        g_vfs.xDlClose = DlClose;
        g_vfs.xRandomness = Randomness;
        g_vfs.xSleep = Sleep;
        g_vfs.xCurrentTime = CurrentTime;
        g_vfs.xGetLastError = GetLastError;
        g_vfs.xCurrentTimeInt64 = CurrentTimeInt64;
        g_registered = sqlite3_vfs_register(&g_vfs, 0);
    });
    if (g_registered != SQLITE_OK) {
        return util::Fail(util::ErrorCode::kIo,
                          fmt::format("cannot register SQLite's WAL-gathering file layer over the default one ({})",
                                      sqlite3_errstr(g_registered)));
    }
    return std::string(kVfsName);
}

std::uint64_t StatementJournalsOpened() {
    return g_journals_opened.load(std::memory_order_relaxed);
}

}  // namespace railwatch::store::sqlite
