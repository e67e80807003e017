/** The example driver's metadata, as the tests' manifests start (sources and targets follow). */
export const ACME = `name: acmenet
version: 2.4.1
release: 3
vendor: acme
summary: ACME 25GbE network driver
`;

/** The same with the vendor's display name and a description, as packages for users carry. */
export const ACME_FULL = `${ACME}vendorName: ACME Networks
description: ACME 25GbE network (acmenet) and NVMe-oF offload (acmestor) drivers.
`;
