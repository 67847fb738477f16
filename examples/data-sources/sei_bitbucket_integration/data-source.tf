terraform {
  required_providers {
    sei = {
      source = "sei-oss/sei"
    }
  }
}

data "sei_bitbucket_integration" "prod" {
  name = "bb-prod"
}

output "prod_repositories" {
  value = data.sei_bitbucket_integration.prod.repositories
}
