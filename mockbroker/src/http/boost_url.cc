// Boost.URL is used header-only; the mock's copy of its implementation is
// compiled once, here (the HTTP control API's targets and queries).
#include <boost/url/src.hpp>
