# Two SEI projects, each with its own provider configuration, passed to a
# module that declares one team's integration.
#
# With a provider installed through dev_overrides (the quickstart's
# playground, a local build), install the module with `terraform get`, not
# `terraform init`: init also asks the registry for the overridden provider
# and fails with "Failed to query available provider packages".
#   terraform get && terraform apply

terraform {
  required_version = ">= 1.11"
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

provider "sei" {
  alias      = "payments"
  project_id = "payments"
}

provider "sei" {
  alias      = "platform"
  project_id = "platform"
}

variable "ops_token" {
  type      = string
  ephemeral = true
}

module "payments" {
  source    = "../modules/sei-team"
  providers = { sei = sei.payments }

  team         = "payments"
  repositories = ["acme/billing-api"]
  username     = "ops@acme.example"
  token        = var.ops_token
}

module "platform" {
  source    = "../modules/sei-team"
  providers = { sei = sei.platform }

  team     = "platform"
  username = "ops@acme.example"
  token    = var.ops_token
}

output "integration_ids" {
  value = { payments = module.payments.id, platform = module.platform.id }
}
