terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

data "sei_bitbucket_integrations" "prod" {
  name_prefix = "bb-"
  tag_ids     = ["17"]
}

output "integration_names" {
  value = [for i in data.sei_bitbucket_integrations.prod.integrations : i.name]
}
