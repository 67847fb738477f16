terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

variable "ops_token" {
  type      = string
  ephemeral = true
}

variable "ci_token" {
  type      = string
  ephemeral = true
}

resource "sei_bitbucket_integration" "prod" {
  name         = "bb-prod"
  description  = "Prod workspaces"
  repositories = ["acme/api", "acme/web"]
  tags         = ["17"]

  # Two blocks: SEI uses the accounts in turn, doubling Bitbucket's
  # 1000 requests/hour budget. Each must see every listed repository.
  credential {
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }
  credential {
    username    = "ci@acme.example"
    password_wo = var.ci_token
  }
  credentials_version = 1 # bump to re-send rotated tokens
}

# One integration per team, from a map, all checked in one plan. Teams that
# share a credential cost one set of Bitbucket calls.
variable "teams" {
  type = map(object({ repositories = set(string) }))
  default = {
    payments = { repositories = ["acme/billing-api"] }
    platform = { repositories = ["acme/api", "acme/infra"] }
  }
}

resource "sei_bitbucket_integration" "team" {
  for_each = var.teams

  name         = "bb-${each.key}"
  repositories = each.value.repositories

  credential {
    username    = "ops@acme.example"
    password_wo = var.ops_token
  }
  credentials_version = 1
}

# An on-premises SEI satellite ingests: no credentials leave this machine.
resource "sei_bitbucket_integration" "satellite" {
  name      = "bb-satellite"
  satellite = true
}
