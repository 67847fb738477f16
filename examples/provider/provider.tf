terraform {
  required_version = ">= 1.11"
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

# Every argument can come from the environment instead (SEI_API_KEY,
# SEI_ACCOUNT_ID, ...), so `provider "sei" {}` is enough in CI.
provider "sei" {
  endpoint             = "https://app.harness.io/gateway/sei/api"
  account_id           = "AbC123"
  org_id               = "default"
  project_id           = "sei"
  validate_credentials = true
  max_retries          = 5
  request_timeout      = "30s"
}
