# Bitbucket Data Center against sei-sandbox: one integration per project
# with for_each, all sharing one credential (checked once per plan), and a
# satellite record. `scripts/quickstart.sh --keep` starts a sandbox and
# prints the environment this needs (SEI_ENDPOINT, SEI_API_KEY,
# TF_VAR_bbdc_url, TF_VAR_bbdc_token); paste it, then `terraform apply`.

terraform {
  required_version = ">= 1.11"
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

provider "sei" {}

variable "bbdc_url" {
  type        = string
  description = "The Data Center's base URL (the sandbox's is <sandbox>/bbdc)."
}

variable "bbdc_token" {
  type      = string
  ephemeral = true
}

locals {
  # SEI integration name => Data Center project name and repositories.
  projects = {
    "bbdc-platform" = { project = "Platform", repositories = ["api", "web"] }
    "bbdc-mobile"   = { project = "Mobile", repositories = [] } # all of them
  }
}

resource "sei_bitbucket_server_integration" "project" {
  for_each = local.projects

  name         = each.key
  description  = "Data Center project ${each.value.project}"
  url          = var.bbdc_url
  projects     = [each.value.project]
  repositories = each.value.repositories

  credential {
    username    = "svc-sei"
    password_wo = var.bbdc_token
  }
  credentials_version = 1
}

resource "sei_bitbucket_server_integration" "private" {
  name      = "bbdc-private"
  url       = "https://git.acme.internal/bitbucket"
  satellite = true
}

output "integrations" {
  value = {
    for name, i in sei_bitbucket_server_integration.project :
    name => { id = i.id, server_version = i.server_version, status = i.status }
  }
}
