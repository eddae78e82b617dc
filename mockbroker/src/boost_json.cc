// Boost.JSON is used header-only; the mock's copy of its implementation is
// compiled once, here (fault rules, and the HTTP control API to come).
#include <boost/json/src.hpp>
