// Typed keys and values: serializers, as Java's Serializer<T>, and a typed
// front for kwire::producer.
//
// A serializer for T is any type with
//   void operator()(std::string_view topic, const T& value, std::vector<std::uint8_t>& out) const;
// that appends T's bytes to `out`. kwire::serializer<T> is provided for
// strings (UTF-8 bytes as given), byte vectors (as is), and integers and
// floating point numbers (big-endian, two's complement / IEEE 754: the bytes
// of Java's ShortSerializer, IntegerSerializer, LongSerializer,
// FloatSerializer and DoubleSerializer). Specialise kwire::serializer for
// your own types, or pass any callable to typed_producer.
//
// typed_producer<K, V> serializes into per-thread buffers that it reuses,
// so a send allocates nothing for the bytes once the buffers have grown. A
// std::optional<K> or std::optional<V> that is empty sends a null key or value.
#pragma once

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <future>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kwire/producer/producer.hpp"

namespace kwire {

template <class T>
struct serializer;

template <>
struct serializer<std::string> {
  void operator()(std::string_view, const std::string& v, std::vector<std::uint8_t>& out) const {
    out.insert(out.end(), v.begin(), v.end());
  }
};

template <>
struct serializer<std::string_view> {
  void operator()(std::string_view, std::string_view v, std::vector<std::uint8_t>& out) const {
    out.insert(out.end(), v.begin(), v.end());
  }
};

template <>
struct serializer<std::vector<std::uint8_t>> {
  void operator()(std::string_view, const std::vector<std::uint8_t>& v,
                  std::vector<std::uint8_t>& out) const {
    out.insert(out.end(), v.begin(), v.end());
  }
};

/// Integers: big-endian in their own width (int16_t as Java's short, int32_t as int, int64_t as
/// long).
template <class T>
requires std::integral<T> &&(!std::same_as<T, bool>)struct serializer<T> {
  void operator()(std::string_view, T v, std::vector<std::uint8_t>& out) const {
    using U = std::make_unsigned_t<T>;
    const auto u = static_cast<U>(v);
    for (int shift = static_cast<int>(sizeof(T) * 8) - 8; shift >= 0; shift -= 8)
      out.push_back(static_cast<std::uint8_t>(u >> shift));
  }
};

/// float and double: the big-endian bits of IEEE 754, as Java's FloatSerializer and
/// DoubleSerializer.
template <class T>
requires std::floating_point<T> &&(sizeof(T) == 4 || sizeof(T) == 8) struct serializer<T> {
  void operator()(std::string_view topic, T v, std::vector<std::uint8_t>& out) const {
    using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
    serializer<bits>{}(topic, std::bit_cast<bits>(v), out);
  }
};

namespace detail {
template <class T>
struct optional_inner {
  using type = T;
  static constexpr bool nullable = false;
};
template <class T>
struct optional_inner<std::optional<T>> {
  using type = T;
  static constexpr bool nullable = true;
};
}  // namespace detail

/// A typed front for a producer: send(topic, key, value) with serializers.
/// The producer must outlive it. Safe from many threads, as the producer is.
template <class K, class V,
          class KeySerializer = serializer<typename detail::optional_inner<K>::type>,
          class ValueSerializer = serializer<typename detail::optional_inner<V>::type>>
class typed_producer {
 public:
  explicit typed_producer(producer& p, KeySerializer ks = {}, ValueSerializer vs = {})
      : producer_(p), key_serializer_(std::move(ks)), value_serializer_(std::move(vs)) {}

  /// Fields of a typed record besides key and value.
  struct options {
    std::optional<std::int32_t> partition;
    std::optional<std::int64_t> timestamp;
    std::span<const record_header> headers;
  };

  std::future<record_metadata> send(std::string_view topic, const K& key, const V& value,
                                    options o = {}) {
    auto& b = buffers();
    return producer_.send(make(b, topic, key, value, o));
  }
  void send(std::string_view topic, const K& key, const V& value, delivery_callback callback,
            options o = {}) {
    auto& b = buffers();
    producer_.send(make(b, topic, key, value, o), std::move(callback));
  }

  producer& underlying() noexcept { return producer_; }

 private:
  struct scratch {
    std::vector<std::uint8_t> key;
    std::vector<std::uint8_t> value;
  };
  static scratch& buffers() {
    thread_local scratch s;
    return s;
  }

  template <class T, class S>
  static nullable_bytes_view serialize(const S& s, std::string_view topic, const T& v,
                                       std::vector<std::uint8_t>& out) {
    out.clear();
    if constexpr (detail::optional_inner<T>::nullable) {
      if (!v) return std::nullopt;
      s(topic, *v, out);
    } else {
      s(topic, v, out);
    }
    return bytes_view(out.data(), out.size());
  }

  producer_record make(scratch& b, std::string_view topic, const K& key, const V& value,
                       const options& o) const {
    producer_record r;
    r.topic = topic;
    r.partition = o.partition;
    r.timestamp = o.timestamp;
    r.key = serialize(key_serializer_, topic, key, b.key);
    r.value = serialize(value_serializer_, topic, value, b.value);
    r.headers = o.headers;
    return r;
  }

  producer& producer_;
  KeySerializer key_serializer_;
  ValueSerializer value_serializer_;
};

}  // namespace kwire
