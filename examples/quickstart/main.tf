# The quickstart: one checked credential, one integration with two
# credentials, the list data source, and a check on the credential.
# scripts/quickstart.sh runs it against sei-sandbox; the provider reads
# SEI_ENDPOINT, SEI_API_KEY and BITBUCKET_API_URL from the environment.

terraform {
  required_version = ">= 1.11"
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

provider "sei" {}

# Secrets come in through ephemeral variables (TF_VAR_ops_token,
# TF_VAR_ci_token): they never reach plan files or state.
variable "ops_token" {
  type      = string
  ephemeral = true
}

variable "ci_token" {
  type      = string
  ephemeral = true
}

resource "sei_bitbucket_credential" "ops" {
  auth_type           = "api_token"
  username            = "ops@acme.example"
  password_wo         = var.ops_token
  password_wo_version = 1
  workspaces          = ["acme"]
}

resource "sei_bitbucket_integration" "prod" {
  name         = "bb-quickstart"
  description  = "Quickstart: acme's API and web repositories"
  repositories = ["acme/api", "acme/web"]

  credential {
    username    = sei_bitbucket_credential.ops.username
    password_wo = var.ops_token
  }
  credential {
    username    = "ci@acme.example"
    password_wo = var.ci_token
  }
  credentials_version = 1
}

data "sei_bitbucket_integrations" "all" {
  name_prefix = "bb-"
  depends_on  = [sei_bitbucket_integration.prod]
}

check "ops_credential" {
  assert {
    condition     = sei_bitbucket_credential.ops.valid == true
    error_message = "The ops Bitbucket credential is not valid."
  }
}

output "integration_id" {
  value = sei_bitbucket_integration.prod.id
}

output "authentication" {
  value = sei_bitbucket_integration.prod.authentication
}

output "ops_credential" {
  value = {
    valid          = sei_bitbucket_credential.ops.valid
    display_name   = sei_bitbucket_credential.ops.display_name
    granted_scopes = sei_bitbucket_credential.ops.granted_scopes
  }
}

output "integrations" {
  value = [for i in data.sei_bitbucket_integrations.all.integrations : "${i.id} ${i.name}"]
}
