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

# Data Center integrations, by name and project.
data "sei_bitbucket_integrations" "onprem" {
  application = "bitbucket_server"
}

output "onprem_projects" {
  value = { for i in data.sei_bitbucket_integrations.onprem.integrations : i.name => i.projects }
}

output "integration_names" {
  value = [for i in data.sei_bitbucket_integrations.prod.integrations : i.name]
}
