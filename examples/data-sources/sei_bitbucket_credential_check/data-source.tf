terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

# Data sources are saved in state, so this password is stored there
# (marked sensitive). To keep a token out of state, use
# sei_bitbucket_credential with password_wo and a check block instead.
variable "ci_token" {
  type      = string
  sensitive = true
}

data "sei_bitbucket_credential_check" "ci" {
  username     = "ci@acme.example"
  password     = var.ci_token
  repositories = ["acme/api", "acme/web"]
}

check "ci_credential" {
  assert {
    condition     = data.sei_bitbucket_credential_check.ci.valid
    error_message = join("\n", data.sei_bitbucket_credential_check.ci.problems)
  }
}
