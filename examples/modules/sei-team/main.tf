# A team's Bitbucket Cloud integration as a module. It declares which
# provider it needs and receives the configured one from its caller.

terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

variable "team" {
  type        = string
  description = "Team name; the integration is named bb-<team>."
}

variable "repositories" {
  type    = set(string)
  default = []
}

variable "username" {
  type = string
}

variable "token" {
  type      = string
  ephemeral = true
}

resource "sei_bitbucket_integration" "this" {
  name         = "bb-${var.team}"
  description  = "Bitbucket Cloud for team ${var.team}"
  repositories = var.repositories

  credential {
    username    = var.username
    password_wo = var.token
  }
  credentials_version = 1
}

output "id" {
  value = sei_bitbucket_integration.this.id
}
