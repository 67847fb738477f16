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
