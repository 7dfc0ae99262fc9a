#include <algorithm>
#include <utility>

#include <avant/http/headers.hpp>

namespace avant::http {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

bool list_contains(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim_ows(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

namespace {

// Lists given back by destroyed Headers on this thread, with their strings' storage.
constexpr std::size_t kPooledLists = 64;
// Set when the thread's pool is destroyed (thread exit): a Headers destroyed after that (a
// thread_local of a user's) frees its list instead. Trivially destructible, so never destroyed.
thread_local bool pool_gone = false;  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)

struct Pool {
  std::vector<std::vector<Headers::Field>> lists;
  Pool() = default;
  ~Pool() { pool_gone = true; }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;
  Pool(Pool&&) = delete;
  Pool& operator=(Pool&&) = delete;
};

std::vector<std::vector<Headers::Field>>* pool() noexcept {
  if (pool_gone) return nullptr;
  thread_local Pool p;
  return &p.lists;
}

}  // namespace

void Headers::take_pooled() noexcept {
  auto* lists = pool();
  if (lists != nullptr && !lists->empty()) {
    fields_ = std::move(lists->back());
    lists->pop_back();
  }
}

void Headers::give_back() noexcept {
  auto* lists = pool();
  if (lists != nullptr && lists->size() < kPooledLists) {
    try {
      lists->push_back(std::move(fields_));
    } catch (...) {  // NOLINT(bugprone-empty-catch): the list is simply freed
    }
  }
}

Headers::Headers(const Headers& other) : Headers() {
  for (const Field& f : other)
    add(f.first, f.second);
}

Headers& Headers::operator=(const Headers& other) {
  if (this != &other) {
    clear();
    for (const Field& f : other)
      add(f.first, f.second);
  }
  return *this;
}

Headers::Headers(Headers&& other) noexcept
    : fields_(std::move(other.fields_)), size_(std::exchange(other.size_, 0)) {}

Headers& Headers::operator=(Headers&& other) noexcept {
  if (this != &other) {
    fields_.swap(other.fields_);
    size_ = std::exchange(other.size_, 0);
    other.size_ = 0;
  }
  return *this;
}

void Headers::put(std::string& slot, std::string_view bytes) {
  slot.assign(bytes);
}

void Headers::add_new(std::string_view name, std::string_view value) {
  if (fields_.capacity() == 0) take_pooled();
  if (size_ < fields_.size()) {
    put_same(fields_[size_].first, name);
    put_same(fields_[size_].second, value);
  } else {
    fields_.emplace_back(std::string(name), std::string(value));
  }
  ++size_;
}

void Headers::set(std::string_view name, std::string_view value) {
  for (std::size_t i = 0; i < size_; ++i) {
    if (iequals(fields_[i].first, name)) {
      fields_[i].second.assign(value);
      // Drop any later duplicates, keeping this one in place.
      for (std::size_t j = i + 1; j < size_;) {
        if (iequals(fields_[j].first, name)) {
          std::rotate(fields_.begin() + static_cast<std::ptrdiff_t>(j),
                      fields_.begin() + static_cast<std::ptrdiff_t>(j + 1),
                      fields_.begin() + static_cast<std::ptrdiff_t>(size_));
          --size_;
        } else {
          ++j;
        }
      }
      return;
    }
  }
  add(name, value);
}

std::size_t Headers::remove(std::string_view name) {
  std::size_t removed = 0;
  for (std::size_t j = 0; j < size_;) {
    if (iequals(fields_[j].first, name)) {
      std::rotate(fields_.begin() + static_cast<std::ptrdiff_t>(j),
                  fields_.begin() + static_cast<std::ptrdiff_t>(j + 1),
                  fields_.begin() + static_cast<std::ptrdiff_t>(size_));
      --size_;
      ++removed;
    } else {
      ++j;
    }
  }
  return removed;
}

std::optional<std::string_view> Headers::get(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < size_; ++i) {
    if (iequals(fields_[i].first, name)) return fields_[i].second;
  }
  return std::nullopt;
}

std::size_t Headers::count(std::string_view name) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < size_; ++i)
    if (iequals(fields_[i].first, name)) ++n;
  return n;
}

bool Headers::has_token(std::string_view name, std::string_view token) const noexcept {
  for (std::size_t i = 0; i < size_; ++i) {
    if (iequals(fields_[i].first, name) && list_contains(fields_[i].second, token)) return true;
  }
  return false;
}

}  // namespace avant::http
