# Import by SEI's integration id
terraform import sei_bitbucket_server_integration.onprem 4513

# or by name
terraform import sei_bitbucket_server_integration.onprem name:bbdc-prod
