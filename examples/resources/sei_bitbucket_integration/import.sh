# Import by SEI's integration id
terraform import sei_bitbucket_integration.prod 4512

# or by name
terraform import sei_bitbucket_integration.prod name:bb-prod
