#pragma once
// OpenAI-style errors: an HTTP status and {"error": {"message", "type", "param", "code"}}.
// Client mistakes are 4xx with the field named in `param`; the server never answers them 500.
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace tessera::server {

struct ApiError : std::runtime_error {
  ApiError(int status_, std::string message, std::string type_ = "invalid_request_error", std::string param_ = "",
           std::string code_ = "")
      : std::runtime_error(std::move(message)), status(status_), type(std::move(type_)), param(std::move(param_)),
        code(std::move(code_)) {}
  int status;
  std::string type, param, code;
  double retry_after_s = 0;  // > 0: sent as Retry-After (429, 503)

  nlohmann::json body() const {
    auto orNull = [](const std::string& s) { return s.empty() ? nlohmann::json(nullptr) : nlohmann::json(s); };
    return {{"error", {{"message", what()}, {"type", type}, {"param", orNull(param)}, {"code", orNull(code)}}}};
  }
};

// 400 naming the field.
inline ApiError bad_field(const std::string& param, const std::string& message) {
  return ApiError(400, message, "invalid_request_error", param);
}

}  // namespace tessera::server
