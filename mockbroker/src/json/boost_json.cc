// Boost.JSON is used header-only; the mock's copy of its implementation is
// compiled once, here (fault rules, the HTTP control API's bodies and answers).
#include <boost/json/src.hpp>
